"""BM25 within some reports ranks as those reports would alone."""
import numpy as np

from kb.lexical import LexicalIndex


def test_scores_within_a_mask_equal_an_index_of_those_chunks_alone():
    # Chunks of equal length, so BM25's length normalisation is the same in both indexes;
    # 增长 is rare in the first report and common in the second.
    first = [["经济", "增长", "目标"], ["停车", "泊位", "扩容"], ["停车", "经济", "目标"]]
    second = [["增长", "增长", "经济"], ["增长", "预期", "增长"], ["增长", "目标", "预期"]]
    library = LexicalIndex.from_tokens(first + second)
    alone = LexicalIndex.from_tokens(first)
    mask = np.array([True] * 3 + [False] * 3)

    scoped, coverage = library.scores("经济增长", mask)
    expected, expected_coverage = alone.scores("经济增长")
    assert np.allclose(scoped[:3], expected, atol=1e-5)
    assert not scoped[3:].any()
    assert coverage == expected_coverage
    unscoped, _ = library.scores("经济增长")  # across both reports 增长 weighs less
    assert not np.allclose(unscoped[:3], expected, atol=1e-3)


def test_unmasked_scores_are_bm25s_own():
    corpus = [["经济", "增长", "目标"], ["停车", "泊位"], ["增长", "增长", "预期", "目标"]]
    index = LexicalIndex.from_tokens(corpus)
    scores, coverage = index.scores("经济增长目标")
    assert np.allclose(scores, index.retriever.get_scores(["经济", "增长", "目标"]), atol=1e-6)
    assert coverage == 1.0


def test_english_words_match_the_report_terms_as_the_chunks_were_cut():
    from kb.lexical import tokenize

    texts = ["今年主要预期目标是：地区生产总值增长6%以上。", "扩容停车泊位3万个以上。",
             "推动40吨以下供暖燃煤锅炉淘汰改造。"]
    index = LexicalIndex.from_tokens([tokenize(t) for t in texts])
    scores, coverage = index.scores("What is the GDP growth target?")
    assert scores.argmax() == 0  # 地区生产总值 is cut into words the chunks have
    # a word the lexicon never met leaves BM25 knowing less of the question
    assert index.scores("What is the GDP growth target of the academicians?")[1] < coverage
    scores, _ = index.scores("How will coal-fired boilers be phased out?")
    assert scores.argmax() == 2


def test_an_english_word_is_matched_as_written_beside_what_the_lexicon_reads_it_as():
    from kb.lexical import tokenize
    from kb.lexicon import expand

    assert "轨道交通" in expand("metro")
    # a corpus that writes the name as it is ("Metro", a retailer), beside the report term
    texts = ["Metro 是一家德国零售企业，在多个城市开设门店。", "轨道交通2号线南延线开通运营，方便市民出行。",
             "新建口袋公园1000座。"]
    index = LexicalIndex.from_tokens([tokenize(t) for t in texts])
    question = "Metro这个名字是什么意思呢"  # a Chinese question: only its English word is in the corpus
    scores, _ = index.scores(question)
    assert scores[0] > 0 and scores[1] > 0 and scores[2] == 0  # the name as written, and what it reads as
    # where no paragraph writes the word, it does not count as a word BM25 is missing
    reports = LexicalIndex.from_tokens([tokenize(t) for t in texts[1:]])
    assert reports.scores(question)[1] == reports.scores("轻轨 轨道交通这个名字是什么意思呢")[1]
    scores, _ = index.scores("metro")  # an English question too
    assert scores[0] > 0 and scores[1] > 0 and scores[2] == 0


def test_text_that_folds_to_another_length_is_cut_whole_and_its_spans_point_into_it():
    from kb.lexical import tokens_with_spans

    text = "（二）坚持以科技创新推动产业创新…\n新建住房120㎡，建成15个数字化车间"
    terms = {word: text[s:e] for word, s, e in tokens_with_spans(text)}
    assert terms["车间"] == "车间" and terms["数字化"] == "数字化"  # the last words, as written
    assert terms["120m2"] == "120㎡"
