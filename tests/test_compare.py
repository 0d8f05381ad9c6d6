"""One question asked of the whole library: a row per report with the figure its text gives."""
import csv
import io

from kb import store
from kb.compare import compare, indicator_words, table, to_csv
from kb.figures import answer, figures
from kb.highlight import query_terms
from webapp import create_app

from conftest import _library


def test_figures_as_written_and_sortable():
    text = "增长5%左右，5%—5.5%，4.5-5%，增长5％，新增120万人以上，控制在2%以内，2025年增长"
    found = [(f.text, f.value, f.unit, f.qualifier) for f in figures(text)]
    assert found == [("5%左右", 5.0, "%", "左右"), ("5%—5.5%", 5.0, "%", ""), ("4.5-5%", 4.5, "%", ""),
                     ("5％", 5.0, "%", ""), ("120万人以上", 120.0, "万人", "以上"), ("2%以内", 2.0, "%", "以内")]
    words = "食品产业产值突破千亿元，新增两千五百万人以上，增长百分之八至九，一个重点，三年行动"
    assert [(f.text, f.value, f.unit) for f in figures(words)] == [
        ("千亿元", 1000.0, "亿元"), ("两千五百万人以上", 2500.0, "万人"), ("百分之八至九", 8.0, "%")]
    # 亿 and 万 in one amount (older reports): the whole of it, its value in its unit
    mixed = "国家预算收入为二百九十七亿九千七百万元，动用了历年财政结余十六亿五千万元，三千二百亿元"
    assert [(f.text, f.value, f.unit) for f in figures(mixed)] == [
        ("二百九十七亿九千七百万元", 2979700.0, "万元"), ("十六亿五千万元", 165000.0, "万元"), ("三千二百亿元", 3200.0, "亿元")]
    assert [(f.text, f.value) for f in figures("粮食产量达到一万零五百亿斤，增加了二万五千人")] == [
        ("一万零五百亿斤", 10500.0), ("二万五千人", 25000.0)]
    counted = "市场主体超过1.5亿户，筹集7200套保障性住房，原煤产量8亿吨，外送电量1000亿千瓦时"
    assert [(f.text, f.unit) for f in figures(counted)] == [
        ("1.5亿户", "亿户"), ("7200套", "套"), ("8亿吨", "亿吨"), ("1000亿千瓦时", "亿千瓦时")]
    # after 每: a denominator or a rate's step, not a figure the sentence gives
    per = "每10万人配置AED达45台，国内生产总值每增长1个百分点的增量，相当于5年前1.5个百分点"
    assert [f.text for f in figures(per)] == ["45台", "1.5个百分点"]
    # thousands grouped by commas (older reports) and digits a web page spaced out: one number each,
    # and the clause is not cut at such a comma
    grouped = "粮食产量３３，２１２万吨，比上年增加２，７３７万吨；1997年粮食产量4 9 2 5 0 万吨，比2020，2021年"
    assert [(f.text, f.value) for f in figures(grouped)] == [
        ("３３，２１２万吨", 33212.0), ("２，７３７万吨", 2737.0), ("4 9 2 5 0 万吨", 49250.0)]
    assert answer("粮食产量３３，２１２万吨，比上年增加２，７３７万吨", ["粮食", "产量"]).figure.text == "３３，２１２万吨"


def test_the_figure_of_the_clause_the_question_asks_about():
    sentence = "地区生产总值增长5%左右，一般公共预算收入增长3%，城镇新增就业120万人以上。"
    gdp = answer(sentence, query_terms("今年地区生产总值增长目标是多少"))
    jobs = answer(sentence, query_terms("城镇新增就业目标"))
    assert gdp.figure.text == "5%左右" and jobs.figure.text == "120万人以上"
    # the growth of what the clause before named, past "按可比价格计算" (the level is not the growth asked)
    level = "国内生产总值达到４３８００亿元，按可比价格计算，比上年增长百分之十一点八。"
    assert answer(level, query_terms("国内生产总值增长多少")).figure.text == "百分之十一点八"
    assert answer("今年要持续优化营商环境。", query_terms("地区生产总值增长目标")).figure is None
    listed = "今年全省经济社会发展主要预期目标是：地区生产总值增长4.5-5%，在实际工作中争取更好结果，粮食产量1600亿斤以上。"
    # ranking reads the list a colon announces as answering a question about a target; a compare cell
    # claims only a figure its own clause's words ask for
    assert answer(listed, query_terms("今年经济增长预期目标是多少"), listed=True).figure.text == "4.5-5%"
    assert answer(listed, query_terms("今年经济增长预期目标是多少")).figure is None
    assert answer(listed, query_terms("今年粮食产量目标"), listed=True).figure.text == "1600亿斤以上"
    # all the question's words in the announcing clause (增速, not 增长): for ranking, the target it
    # announces answers as much of the question as the announcement does, and gives the figure
    assert answer(listed, query_terms("今年经济增速目标"), listed=True).figure.text == "4.5-5%"
    assert answer(listed, query_terms("今年经济增速目标")).figure is None


def test_a_figure_is_for_the_indicator_the_question_names():
    # a list of targets that names the indicator asked about without a figure for it: no cell figure
    # from its neighbour's clause (the growth of the economy is not that of foreign trade); years
    # say when, not what
    assert answer("2025年主要预期目标是：地区生产总值增长5%左右，粮食产量880亿斤以上。", query_terms("各省2025年粮食产量"),
                  indicator=True).figure.text == "880亿斤以上"
    assert answer("2025年省十件民生实事", query_terms("各省2025年粮食产量"), indicator=True).figure is None
    targets = ("今年经济社会发展的主要预期目标是：地区生产总值增长6%左右，固定资产投资增长5%，"
               "进出口总额保持正增长，城镇新增就业65万人。")
    trade = answer(targets, query_terms("各省进出口增长目标"), indicator=True)
    assert trade.figure is None and "进出口总额保持正增长" in trade.sentence
    assert answer(targets, query_terms("各省地区生产总值增长目标"), indicator=True).figure.text == "6%左右"
    # a growth that goes on with the clause naming the indicator is still its figure
    level = "全年国内生产总值达到18.23万亿元，比上年增长9.9%。"
    assert answer(level, query_terms("国内生产总值增长多少"), indicator=True).figure.text == "9.9%"


def test_a_cell_s_clause_names_the_indicator_whatever_its_sentence_holds():
    # the sentence holds little of the question, and the clause all of that: still no figure for
    # another indicator (城镇化率 is not 城镇调查失业率; industry's growth is not R&D spending's)
    def cell(text, question):
        terms = query_terms(question)
        return answer(text, terms, indicator=True, named=indicator_words(terms)).figure

    assert cell("力争全省城镇化率提高0.9个百分点以上。", "各省今年城镇调查失业率控制在多少") is None
    assert cell("省内转化重大科技成果700项以上，规上工业增加值增长5%以上。", "各省今年研发经费投入增长多少") is None
    # the words that say whose, when, and that a target is asked are not what the clause must name
    assert set(indicator_words(query_terms("各省今年粮食产量目标"))) == {"粮食产量", "粮食", "产量"}
    assert cell("粮食总产稳定在1100亿斤以上。", "各省今年粮食产量目标").text == "1100亿斤以上"
    assert cell("全社会研发经费投入增长10%以上。", "各省今年研发经费投入增长多少").text == "10%以上"


def test_a_years_figure_is_not_an_average_over_several():
    review = "全省地区生产总值跨过3万亿元、年均增长5.2%，人均生产总值居全国第12位。"
    terms = query_terms("各省去年地区生产总值实际增长多少")
    assert answer(review, terms, indicator=True).figure.text == "5.2%"
    assert answer(review, terms, indicator=True, one_year=True).figure is None
    # the growth goes on with what the clause before the aside named
    level = "全省地区生产总值达到5.53万亿元、稳居全国前十强、增长4.8%，其中规模工业增加值增长7%。"
    assert answer(level, terms, indicator=True, one_year=True).figure.text == "4.8%"
    # asked how fast it grew, a level is no answer, however much of the indicator its clause names (weighed
    # by rarity, as kb compare weighs: 增长 and 实际 are in every report)
    rarity = {"增长": 0.1, "实际": 0.3, "去年": 0.2}.get
    levels = "全省地区生产总值突破2.5万亿元，经济实力持续增强。"
    assert answer(levels, terms, indicator=True, weigh=lambda t: rarity(t, 2.0)).figure is None
    assert answer(levels, query_terms("各省地区生产总值"), indicator=True).figure.text == "2.5万亿元"
    # a timeline's year: the 1978 report's figure for 1985 is no target for 1978
    horizon = "按照十年规划，到一九八五年，粮食产量达到八千亿斤，钢产量六千万吨。"
    grain = query_terms("历年粮食产量")
    assert answer(horizon, grain, indicator=True, year=1978).figure is None
    assert answer(horizon, grain, indicator=True, year=1985).figure.text == "八千亿斤"


def test_a_cells_figure_measures_what_is_asked():
    def cell(text, question):  # as kb compare reads a report's sentence for a question
        terms = query_terms(question)
        return answer(text, terms, indicator=True, named=indicator_words(terms)).figure

    # the clause that names 粮食 gives the sown area; the output follows it, its subject shared
    both = "严守耕地红线，确保粮食播种面积1530万亩、总产量125亿斤。"
    assert cell(both, "今年粮食产量目标").text == "125亿斤"
    assert cell("确保粮食种植面积4510万亩以上。", "今年粮食产量目标") is None
    # asked for the area, the same sentence gives it
    assert cell(both, "今年粮食播种面积").text == "1530万亩"
    # a percentage that qualifies the indicator is a share of it, not its growth (the 1983 national report)
    share = "我国百分之八十以上的财政收入来自城市工商业。"
    assert cell(share, "历年财政收入增长多少") is None
    assert cell(share, "财政收入来自城市工商业的比重").text == "百分之八十以上"


def _provinces(tmp_path_factory, embedder, name, reports: dict[str, str]):
    """The index of a small library of provincial reports (conftest's `_library`)."""
    return store.load(_library(tmp_path_factory, embedder, name, reports) / "index")


def test_this_year_is_the_reports_own_year_not_its_five_year_plan(tmp_path_factory, embedder):
    index = _provinces(tmp_path_factory, embedder, "five-year", {
        f"2026-{place}": (
            f"2026年{place}政府工作报告\n\n一、“十四五”时期和2025年工作回顾\n\n五年来城镇新增就业600万人。"
            f"全省地区生产总值年均增长{growth[0]}。过去一年地区生产总值增长{growth[1]}、总量再上新台阶。\n\n"
            f"二、“十五五”时期主要目标任务\n\n“十五五”时期城镇新增就业目标是{five}，稳步提高居民收入水平。\n\n"
            f"三、2026年重点工作安排\n\n主要预期目标是：经济增长5%左右，城镇新增就业{annual}，居民消费价格涨幅2%左右。\n")
        for place, five, annual, growth in (("河南省", "500万人以上", "110万人以上", ("5.9%", "5.5%")),
                                            ("湖北省", "450万人以上", "90万人以上", ("5.6%", "5.1%")))})
    rows = compare(index, embedder, "各省今年城镇新增就业目标是多少")
    assert {r.region: r.figure for r in rows} == {"河南": "110万人以上", "湖北": "90万人以上"}
    assert all(r.about_year == (2026, 2026) for r in rows)
    # 去年: the year the report reviews, not the five years' average beside it
    rows = compare(index, embedder, "各省去年地区生产总值实际增长多少")
    assert {r.region: r.figure for r in rows} == {"河南": "5.5%", "湖北": "5.1%"}


def test_a_byline_dated_the_reports_year_is_not_its_answer(tmp_path_factory, embedder):
    index = _provinces(tmp_path_factory, embedder, "byline", {
        f"2026-{place}": (
            f"2026年{place}政府工作报告\n\n——2026年1月27日在{place}第十四届人民代表大会第五次会议上\n\n"
            f"一、2025年工作回顾\n\n过去一年，地区生产总值增长4.2%。\n\n"
            f"二、“十五五”时期目标任务和2026年工作安排\n\n“十五五”时期，地区生产总值年均增长5%左右。\n\n"
            f"全省经济社会发展的主要预期目标是：地区生产总值增长{target}，在实际工作中努力争取更好结果。\n")
        for place, target in (("辽宁省", "4.5%左右"), ("吉林省", "5%左右"))})
    rows = compare(index, embedder, "各省2026年地区生产总值增长目标是多少")
    assert {r.region: r.figure for r in rows} == {"辽宁": "4.5%左右", "吉林": "5%左右"}


def test_a_timelines_year_without_a_target_is_not_answered_by_its_byline(tmp_path_factory, embedder):
    reports = {
        "2020-national": ("2020年政府工作报告\n\n——2020年5月22日在第十三届全国人民代表大会第三次会议上\n\n"
                          "一、2019年工作回顾\n\n国内生产总值增长6.1%。\n\n"
                          "二、2020年发展主要目标\n\n今年发展主要目标是稳就业保民生，努力实现全面建成小康社会目标任务。\n\n"
                          "今年增长目标没有量化，要稳住经济基本盘，推动高质量发展。\n\n"
                          "今年要确保实现脱贫攻坚目标任务，增长动能持续增强。\n\n"
                          "城镇新增就业900万人以上，单位国内生产总值能耗和主要污染物排放量继续下降。\n"),
        "2021-national": ("2021年政府工作报告\n\n——2021年3月5日在第十三届全国人民代表大会第四次会议上\n\n"
                          "一、2020年工作回顾\n\n全年国内生产总值增长2.3%。\n\n"
                          "二、2021年发展主要目标\n\n国内生产总值增长6%以上。\n")}
    index = _provinces(tmp_path_factory, embedder, "bylines", reports)
    years = {y.year: y for y in table(index, embedder, "历年国内生产总值增长目标")[1]}
    assert years[2021].target.figure == "6%以上" and years[2020].outcome.figure == "2.3%"
    # the plan sets no growth target: its cell is empty, its sentence the one that names the indicator
    assert years[2020].target.figure == "" and "国内生产总值" in years[2020].target.sentence


def test_a_cell_is_for_the_rare_word_of_the_indicator_not_the_common_one(tmp_path_factory, embedder):
    # 单位国内生产总值能耗 holds 国内生产总值: the growth of the economy must not answer for its energy intensity
    plans = {2023: "国内生产总值增长5%左右，城镇新增就业1200万人左右。",
             2024: "国内生产总值增长5%左右，单位国内生产总值能耗降低2.5%左右。"}
    index = _provinces(tmp_path_factory, embedder, "intensity", {
        f"{year}-national": (f"{year}年政府工作报告\n\n一、{year - 1}年工作回顾\n\n过去一年，经济总体回升向好。\n\n"
                             f"二、{year}年发展主要预期目标\n\n{plan}\n") for year, plan in plans.items()})
    for asked in ("历年单位国内生产总值能耗下降多少", "energy consumption per unit of GDP over the years"):
        years = {y.year: y for y in table(index, embedder, asked)[1]}
        assert years[2024].target.figure == "2.5%左右", asked
        assert 2023 not in years or years[2023].target.figure == "", asked


JOBS_POLICY = ("就业是最大的民生，要坚持把稳就业作为优先目标，新增城镇就业机会。",
               "实施重点领域、重点行业、城乡基层和中小微企业就业支持计划，支持企业稳岗扩岗。",
               "强化高校毕业生、农民工、退役军人等重点群体就业帮扶，促进城镇青年就业，新增就业见习岗位。",
               "健全就业公共服务体系，建设城乡一体的零工市场，促进新就业形态健康发展。",
               "大力开展职业技能培训，让更多劳动者在城镇稳定就业、安心生活。",
               "加大创业担保贷款支持力度，以创业带动就业，新增一批返乡创业园。")
TARGETS = ("今年经济社会发展主要预期目标是：地区生产总值增长5%左右，一般公共预算收入增长3%，规模以上工业增加值增长6%，"
           "固定资产投资增长5%，社会消费品零售总额增长5%，进出口总额促稳提质，城镇新增就业{}，城镇调查失业率5.5%左右，"
           "居民消费价格涨幅2%左右，居民收入增长与经济增长同步，粮食产量稳定在400亿斤以上，单位地区生产总值能耗降低2.5%左右。")


def test_a_cell_the_policy_paragraphs_leave_empty_takes_the_figure_of_the_list_of_targets(tmp_path_factory, embedder):
    # asked in English, each report's employment policies rank above its long list of targets in the
    # library's ranking: its own ranking reaches the list, and the figure named with all of the indicator
    jobs = {"河北省": "85万人以上", "山西省": "45万人", "湖南省": "70万人", "吉林省": "30万人"}
    index = _provinces(tmp_path_factory, embedder, "jobs", {
        f"2026-{place}": (f"2026年{place}政府工作报告\n\n一、2025年工作回顾\n\n过去一年，地区生产总值增长5.2%。\n\n"
                          f"二、2026年工作安排\n\n" + "\n\n".join((TARGETS.format(figure), *JOBS_POLICY)) + "\n")
        for place, figure in jobs.items()})
    for asked in ("How many new urban jobs does each province aim to create this year?", "各省今年城镇新增就业目标"):
        rows = compare(index, embedder, asked)
        assert {r.region: r.figure for r in rows} == {p[:2]: f for p, f in jobs.items()}, asked


def test_the_words_that_ask_across_reports_are_not_read_in_a_cell(tmp_path_factory, embedder):
    # 历年 asks for every year; "动用了历年财政结余" does not answer for foreign trade
    index = _provinces(tmp_path_factory, embedder, "over-the-years", {
        f"{year}-national": (f"{year}年政府工作报告\n\n一、{year - 1}年工作回顾\n\n{review}\n\n"
                             f"二、{year}年工作任务\n\n{plan}\n")
        for year, review, plan in (
            (2023, "进出口总额增长7.7%，外贸规模再创新高。", "进出口总额增长目标是促稳提质。"),
            (2024, "从财政方面说，动用了历年财政结余十六亿五千万元。外贸进出口保持稳定。", "进出口促稳提质。"))})
    years = {y.year: y for y in table(index, embedder, "历年进出口总额增长多少")[1]}
    assert years[2022].outcome.figure == "7.7%"
    assert 2023 not in years or not years[2023].outcome or years[2023].outcome.figure == ""


def test_the_question_s_words_are_found_as_bm25_matches_them():
    # Traditional text, a question in Simplified (or the other way), "GDP" asked as "gdp": the clause
    # is found in folded form, and the sentence and figure are given as the report writes them
    found = answer("新北市位於臺灣北部，海岸線長約120公里，人口約四百萬。", query_terms("新北市的海岸线有多少公里"))
    assert found.figure.text == "120公里" and "海岸線" in found.sentence
    assert answer("GDP增長5%左右，財政收入增長3%。", query_terms("gdp增长目标")).figure.text == "5%左右"


def test_one_row_per_report_with_its_figure(compare_library, embedder):
    index = store.load(compare_library / "index")
    rows = compare(index, embedder, "各省2026年地区生产总值增长目标是多少")
    got = {r.doc_id: r.figure for r in rows}
    assert got == {"2026-beijing": "5%左右", "2026-guangdong": "4.5%—5%", "2026-jiangxi": "5%-5.5%"}
    by_figure = compare(index, embedder, "各省2026年地区生产总值增长目标是多少", sort="figure")
    assert [r.value for r in by_figure] == sorted((r.value for r in rows), reverse=True)
    jobs = {r.doc_id: r.figure for r in compare(index, embedder, "城镇新增就业目标")}
    assert jobs == {"2026-beijing": "26万人以上", "2026-guangdong": "110万人以上", "2026-jiangxi": "45万人"}
    # asked in English: the clause is read for the report terms the learned lexicon gives its words
    english = {r.doc_id: r.figure for r in compare(index, embedder, "What is each province's GDP growth target for 2026?")}
    assert english == got
    named = {r.doc_id for r in compare(index, embedder, "北京和广东的地区生产总值增长目标")}
    assert named == {"2026-beijing", "2026-guangdong"}  # the places a question names, only
    text = to_csv(rows)
    assert text.startswith("\ufeff")
    table = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert {t["doc_id"]: t["figure"] for t in table} == got and "地区生产总值" in table[0]["sentence"]


def test_a_comparison_of_more_reports_than_a_page_of_results(tmp_path, embedder):
    from kb.build import build

    docs = tmp_path / "reports"
    docs.mkdir()
    for i in range(101):  # a library of over a hundred reports: each still has its row
        (docs / f"report-{i:03d}.txt").write_text(
            f"第{i}号政府工作报告\n\n二、2026年工作安排\n\n今年地区生产总值增长{i % 5 + 3}%左右。\n", encoding="utf-8")
    build(docs, tmp_path / "index", embedder=embedder)
    rows = compare(store.load(tmp_path / "index"), embedder, "地区生产总值增长目标")
    assert len(rows) == 101 and all(r.figure for r in rows)


def test_a_named_or_relative_year_is_read_as_the_reports_speak_of_it(tmp_path, embedder):
    from kb.build import build

    docs = tmp_path / "reports"
    docs.mkdir()
    figures = {("北京市", 2025): ("5.2%", "5.1%"), ("北京市", 2026): ("5.4%", "5.3%"),  # (outcome of the year
               ("广东省", 2025): ("3.5%", "4.6%"), ("广东省", 2026): ("3.9%", "4.7%")}  # before, target)
    for (place, year), (outcome, target) in figures.items():
        (docs / f"{year}-{place}.txt").write_text(
            f"{year}年{place}政府工作报告\n\n一、{year - 1}年工作回顾\n\n过去一年，地区生产总值增长{outcome}。\n\n"
            f"二、{year}年工作安排\n\n今年地区生产总值增长目标是{target}。\n", encoding="utf-8")
    build(docs, tmp_path / "index", embedder=embedder)
    index = store.load(tmp_path / "index")

    def cells(question):
        return {(r.region, r.year): r.figure for r in compare(index, embedder, question)}

    # what was done in 2025 is told by the 2026 reports; their 2025 reports' review tells 2024
    assert cells("各省2025年地区生产总值实际增长多少") == {("北京", 2026): "5.4%", ("广东", 2026): "3.9%"}
    assert cells("各省2025年地区生产总值增长目标") == {("北京", 2025): "5.1%", ("广东", 2025): "4.6%"}
    assert cells("各省今年地区生产总值增长目标") == {("北京", 2026): "5.3%", ("广东", 2026): "4.7%"}
    # each row says the year its figure is about where that is not its report's
    from click.testing import CliRunner

    from kb.cli import cli

    where = ["--docs", str(docs), "--index", str(tmp_path / "index")]
    out = CliRunner().invoke(cli, ["compare", "各省2025年地区生产总值实际增长多少", *where]).output
    assert [line.endswith("[讲的是2025年]") for line in out.splitlines()] == [True, True]
    client = create_app({"INDEX": str(tmp_path / "index"), "DOCS": str(docs), "TESTING": True}).test_client()
    page = client.get("/compare?q=各省2025年地区生产总值实际增长多少").get_data(as_text=True)
    assert page.count("讲的是2025年（回顾）") == 2


def test_compare_api_and_bad_input(compare_library):
    client = create_app({"INDEX": str(compare_library / "index"), "DOCS": str(compare_library / "reports"),
                         "TESTING": True}).test_client()
    res = client.get("/api/compare?q=各省2026年地区生产总值增长目标是多少&sort=region")
    rows = res.get_json()["rows"]
    assert res.status_code == 200 and len(rows) == 3
    assert set(rows[0]) >= {"doc_id", "title", "region", "year", "sentence", "figure", "value", "unit",
                            "paragraph", "citation", "url"}
    guangdong = next(r for r in rows if r["doc_id"] == "2026-guangdong")  # a title naming neither place nor year
    assert guangdong["citation"].startswith("《政府工作报告》（广东省，2026年）二、2026年工作安排 第")
    page = client.get("/?q=地区生产总值增长目标").get_data(as_text=True)
    assert "《政府工作报告》（广东省，2026年）" in page and "政府工作报告（广东省，2026年）" in page  # cards, facets
    one = client.get("/api/compare?q=地区生产总值增长目标&doc=2026-beijing").get_json()["rows"]
    assert [r["figure"] for r in one] == ["5%左右"]
    for url, code in (("/api/compare?q=", 400), ("/api/compare?q=" + "增长" * 5000, 400),
                      ("/api/compare?q=增长&sort=colour", 400), ("/api/compare?q=增长&doc=nowhere", 404)):
        res = client.get(url)
        assert res.status_code == code and "error" in res.get_json(), url


def test_a_place_the_library_has_no_report_for_is_said(compare_library, embedder):
    from click.testing import CliRunner

    from kb.cli import cli
    from kb.search import search

    index = store.load(compare_library / "index")
    tibet = search(index, embedder, "西藏今年地区生产总值增长目标", 3)
    assert tibet and tibet.missing_places == ("西藏",)  # answered from the others, and said so
    assert search(index, embedder, "北京今年地区生产总值增长目标", 3).missing_places == ()
    assert search(index, embedder, "What is Tibet's GDP growth target?", 3).missing_places == ("西藏",)
    client = create_app({"INDEX": str(compare_library / "index"), "DOCS": str(compare_library / "reports"),
                         "TESTING": True}).test_client()
    assert client.get("/api/search?q=西藏今年地区生产总值增长目标").get_json()["missing_places"] == ["西藏"]
    assert "索引里没有西藏的报告" in client.get("/?q=西藏今年地区生产总值增长目标").get_data(as_text=True)
    out = CliRunner().invoke(cli, ["search", "西藏今年地区生产总值增长目标", "--docs", str(compare_library / "reports"),
                                   "--index", str(compare_library / "index")]).output
    assert out.startswith("No report in the index is for 西藏")
    compared = client.get("/api/compare?q=西藏今年地区生产总值增长目标").get_json()
    assert compared["missing_places"] == ["西藏"] and len(compared["rows"]) == 3
    assert "索引里没有西藏的报告" in client.get("/compare?q=西藏今年地区生产总值增长目标").get_data(as_text=True)
    out = CliRunner().invoke(cli, ["compare", "西藏今年地区生产总值增长目标", "--docs", str(compare_library / "reports"),
                                   "--index", str(compare_library / "index")]).output
    assert out.startswith("No report in the index is for 西藏")


def test_compare_cli_csv(compare_library):
    from click.testing import CliRunner

    from kb.cli import cli

    out = CliRunner().invoke(cli, ["compare", "地区生产总值增长目标", "--csv", "--docs", str(compare_library / "reports"),
                                   "--index", str(compare_library / "index")])
    assert out.exit_code == 0 and out.output.startswith("\ufeffdoc_id,title")
    assert "4.5%—5%" in out.output
    text = CliRunner().invoke(cli, ["compare", "地区生产总值增长目标", "--docs", str(compare_library / "reports"),
                                    "--index", str(compare_library / "index")])
    assert text.exit_code == 0
    assert any(line.startswith("北京") and "2026" in line and "%" in line for line in text.output.splitlines())


def test_a_named_year_keeps_the_comparison_to_that_years_reports(compare_library):
    from kb.compare import _named_year
    from kb.scope import Filters

    index = store.load(compare_library / "index")
    assert _named_year(index, "各省2026年地区生产总值增长目标", Filters()).year == 2026
    assert _named_year(index, "各省2019年地区生产总值增长目标", Filters()).year is None  # no such reports
    assert _named_year(index, "2026年目标", Filters(year=2025)).year == 2025  # the user's filter wins


def test_a_cell_reads_the_part_asked_about_where_its_paragraphs_about_the_year_give_no_figure(tmp_path_factory,
                                                                                              embedder):
    # Liaoning's 2026 plan is a part about 2026-2030; its opening paragraphs say 今年 and give no figure, and its
    # investment target is in a paragraph further down that names no year
    targets = {"辽宁": "3%左右", "吉林": "4%", "黑龙江": "5%左右"}
    index = _provinces(tmp_path_factory, embedder, "five-year-and-this-year", {
        f"2026-{place}": (
            f"2026年{place}省政府工作报告\n\n一、2025年工作回顾\n\n过去一年，地区生产总值增长5.2%。\n\n"
            "二、“十五五”时期目标任务和2026年工作安排\n\n今年是“十五五”开局之年。今年政府工作总体要求是：坚持稳中求进，"
            "推动投资止跌回稳，实现经济质的有效提升和量的合理增长。\n\n"
            f"积极扩大有效投资。持续实施“抓招商、推项目、促落地”专项行动，固定资产投资增长{figure}。\n\n"
            "推进传统产业转型增效。加快智改数转，推动规模以上工业企业数字化改造全覆盖。\n")
        for place, figure in targets.items()})
    rows = compare(index, embedder, "What is each province's target for fixed-asset investment growth in 2026?")
    assert {r.region: r.figure for r in rows} == targets
