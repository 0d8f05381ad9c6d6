"""The learned English lexicon: what an English question's words add to BM25."""
import json

from kb.lexicon import LEXICON_FILE, dictionary_terms, english_words, expand, load_lexicon, unknown_words
from kb.search import search


def test_shipped_lexicon_translates_report_words():
    terms = expand("What is the GDP growth target?")
    assert {"生产总值", "增长", "目标"} <= set(terms)
    assert "粮食" in expand("grain output") and "养老" in " ".join(expand("pension"))


def test_function_words_and_chinese_add_nothing():
    lexicon, untranslated = load_lexicon()
    assert {"the", "of"} <= untranslated
    # learned away (they translate nothing in particular), not listed by hand
    assert not {"the", "of", "and", "we"} & set(lexicon)
    assert expand("今年地区生产总值增长目标是多少") == []


def test_lexicon_says_what_it_was_learned_from():
    data = json.loads(LEXICON_FILE.read_text(encoding="utf-8"))
    assert data["trained_on"]["held_out_years"] == [2013, 2019] and data["trained_on"]["pairs"] > 5000
    assert len(data["lexicon"]) > 1000


def test_words_the_lexicon_never_met_are_told_apart_from_function_words():
    assert unknown_words("How many presold flats were delivered?") == ["presold"]  # nor the dictionary


def test_a_british_spelling_finds_what_was_learned_for_the_american():
    lexicon, _ = load_lexicon()
    assert "kilometres" not in lexicon and "kilometers" in lexicon  # the translations spell it so
    assert expand("kilometres of roads") == expand("kilometers of roads")
    assert unknown_words("How many kilometres of roads did we build?") == []


def test_a_word_the_translations_never_use_is_read_from_the_dictionary(loaded_index, embedder):
    lexicon, untranslated = load_lexicon()
    assert "subway" not in lexicon and "subway" not in untranslated  # the translations say "urban rail"
    assert "地铁" in expand("subway lines") and unknown_words("subway lines") == []
    assert "院士" in expand("How many new academicians did we gain?")
    top = search(loaded_index, embedder, "subway", k=1, mode="lexical")  # BM25 alone finds it
    assert "地铁" in top[0].text
    assert dictionary_terms("the") == [] and expand("the") == []  # a word the lexicon learned away stays away
    # an acronym the translations never wrote, from the gloss that spells it out ("artificial intelligence (AI)")
    assert load_lexicon()[0].get("ai") is None and "人工智能" in expand("AI Plus initiative")


def test_a_word_in_another_form_finds_what_was_learned_for_its_stem():
    lexicon, _ = load_lexicon()
    assert "pipes" not in lexicon and "pipe" in lexicon  # the translations said "pipe"
    assert set(lexicon["pipe"]) <= set(expand("gas pipes")) and unknown_words("gas pipes") == []
    assert expand("pipe") == lexicon["pipe"]  # a word learned as it is keeps its own terms


def test_words_are_keyed_as_questions_spell_them():
    assert english_words("China's State-Owned enterprises") == ["china", "state-owned", "enterprises"]


def test_without_a_lexicon_file_nothing_is_added(tmp_path):
    assert load_lexicon.__wrapped__(tmp_path / "missing.json") == ({}, frozenset())


def test_an_english_question_reaches_the_chinese_paragraph_by_bm25_alone(loaded_index, embedder):
    top = search(loaded_index, embedder, "GDP growth target", k=3, mode="lexical")
    assert any("地区生产总值增长" in r.text for r in top)


def test_where_the_pairs_cannot_tell_two_terms_apart_the_model_decides():
    # "aerospace" is in two sentence pairs, both beside 航空航天 and 海洋 ("...aerospace and
    # oceanography"): EM from uniform cannot choose, so the old lexicon read it as 海洋. EM started
    # from the bundled model's similarity of word and term (scripts/train_lexicon.py) reads it right.
    lexicon, _ = load_lexicon()
    assert "航空航天" in lexicon["aerospace"] and "海洋" not in lexicon["aerospace"]
    assert json.loads(LEXICON_FILE.read_text(encoding="utf-8"))["trained_on"]["prior"]


def test_two_words_used_as_one_give_what_the_phrase_means():
    # learned as phrases (scripts/train_lexicon.py): neither word's own terms hold these
    lexicon, _ = load_lexicon()
    assert "外贸" not in lexicon["foreign"] + lexicon["trade"]
    assert "外贸" in expand("foreign trade companies")
    assert "居民消费" in expand("the rise in consumer prices")  # the CPI: 居民消费价格
    assert "外贸" not in expand("trade with foreign partners")  # apart, the words are only themselves
    assert json.loads(LEXICON_FILE.read_text(encoding="utf-8"))["trained_on"]["phrase_count"] == 2


def test_a_phrase_in_another_form_finds_what_was_learned():
    assert "空气质量" in expand("air quality") and "空气质量" in expand("the air qualities")
    # a word of the same stem that the translations read otherwise is another word: "new urbanization"
    # (新型城镇化) is learned as 新型, and "new urban jobs" are not about it
    assert "新型" in expand("new urbanization") and "新型" not in expand("new urban jobs")
    assert "发展中国家" not in expand("developed countries")


def test_a_term_coined_after_the_translations_is_read_from_the_dictionary_as_one(loaded_index, embedder):
    # "altitude" is in no translation (they end in 2022; 低空经济 came after): the hyphenated word is
    # the dictionary's "low altitude", 低空, and not its parts' own terms ("low" → 低收入)
    assert load_lexicon()[0].get("altitude") is None and "low-altitude" not in load_lexicon()[0]
    assert "低空" in expand("low-altitude economy") and "低收入" not in expand("low-altitude economy")
    assert "低空" in expand("low altitude flights")  # two words: the phrase beside the words' own terms
    assert "低空" not in expand("low wages at high altitude")  # apart, the words are only themselves
    # a hyphenated word whose parts the translations use is its parts' terms, as before
    assert set(expand("opening-up")) == set(expand("opening")) | set(expand("up"))
    top = search(loaded_index, embedder, "low-altitude economy", k=1)
    assert "低空经济" in top[0].text


def test_an_english_question_about_the_cpi_gets_its_figure(compare_library, embedder):
    from kb import store
    from kb.compare import compare

    index = store.load(compare_library / "index")
    rows = compare(index, embedder, "What is each province's 2026 target for the rise in consumer prices?")
    assert {r.doc_id: r.figure for r in rows}["2026-guangdong"] == "2%左右"  # 居民消费价格涨幅2%左右
    # each English word's terms are alternatives, and terms no report writes there (each → 相互,
    # create → 创造) do not name the indicator: every cell has its figure
    jobs = compare(index, embedder, "How many new urban jobs does each province aim to create this year?")
    assert {r.doc_id: r.figure for r in jobs} == {"2026-beijing": "26万人以上", "2026-guangdong": "110万人以上",
                                                  "2026-jiangxi": "45万人"}
