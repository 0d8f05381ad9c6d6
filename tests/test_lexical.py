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
