import numpy as np
from sklearn.metrics import balanced_accuracy_score, confusion_matrix as sk_confusion
from sklearn.metrics import top_k_accuracy_score
from toys import independent_bootstrap

from bench.metrics.classification import confusion_matrix
from bench.metrics.registry import score_run
from bench.specs import Predictions


def test_classification_metrics_match_scikit_learn():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 12, size=300)
    scores = rng.normal(size=(300, 12)) + 2.0 * np.eye(12)[labels] * rng.random((300, 1))
    m = score_run(Predictions([str(i) for i in range(300)], labels, scores))
    classes = np.arange(12)
    assert np.isclose(m["top1"], top_k_accuracy_score(labels, scores, k=1, labels=classes))
    assert np.isclose(m["top5"], top_k_accuracy_score(labels, scores, k=5, labels=classes))
    assert np.isclose(m["mean_class_acc"], balanced_accuracy_score(labels, scores.argmax(1)))
    from sklearn.metrics import f1_score
    assert np.isclose(m["macro_f1"], f1_score(labels, scores.argmax(1), average="macro"))
    np.testing.assert_array_equal(confusion_matrix(labels, scores.argmax(1), 12),
                                  sk_confusion(labels, scores.argmax(1), labels=classes))


def test_rouge_l_rewards_overlap():
    from bench.metrics.explanation import rouge_l

    ref = ["the right hand rises to the head"]
    assert rouge_l(["the right hand rises to the head"], ref) == 1.0
    assert rouge_l(["left leg kicks"], ref) < rouge_l(["right hand rises"], ref)


def test_macro_f1_matches_scikit_learn_with_absent_classes():
    from sklearn.metrics import f1_score

    from bench.metrics.classification import macro_f1

    rng = np.random.default_rng(3)
    labels = rng.integers(0, 8, size=120)  # classes 8..9 never occur, 9 is never predicted
    pred = np.where(rng.random(120) < 0.6, labels, rng.integers(0, 9, size=120))
    cm = confusion_matrix(labels, pred, 10)
    assert np.isclose(macro_f1(cm), f1_score(labels, pred, average="macro"))


def test_bootstrap_ci_matches_an_independent_recomputation():
    import warnings

    from bench.metrics.statistics import bootstrap

    rng = np.random.default_rng(5)
    labels = rng.integers(0, 7, size=90)
    runs = [rng.normal(size=(90, 7)) + 1.2 * np.eye(7)[labels] for _ in range(2)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns when a resample lacks a predicted class
        expected = independent_bootstrap(labels, runs, 120, seed=11)
    got = bootstrap([(labels, s) for s in runs], resamples=120, seed=11)
    for k, (low, high) in expected.items():
        assert np.isclose(got[k].low, low) and np.isclose(got[k].high, high), k
    pred0, pred1 = runs[0].argmax(1), runs[1].argmax(1)
    accs = [accuracy for accuracy in (np.mean(pred0 == labels), np.mean(pred1 == labels))]
    assert np.isclose(got["top1"].value, np.mean(accs))
    assert np.isclose(got["top1"].std, np.std(accs, ddof=1))
    assert got["top1"].low <= got["top1"].value <= got["top1"].high


def test_mcnemar_matches_scipy_exact_and_chi2():
    from scipy.stats import binomtest, chi2

    from bench.metrics.statistics import mcnemar

    rng = np.random.default_rng(2)
    for only_a, only_b, both in ((3, 11, 40), (0, 0, 10), (30, 52, 100), (7, 7, 5)):
        a = np.array([True] * only_a + [False] * only_b + [True] * both + [False] * 9)
        b = np.array([False] * only_a + [True] * only_b + [True] * both + [False] * 9)
        perm = rng.permutation(len(a))
        t = mcnemar(a[perm], b[perm])
        assert (t.only_a, t.only_b) == (only_a, only_b)
        n = only_a + only_b
        if n == 0:
            assert t.p_value == 1.0
        elif n < 25:
            assert t.exact and np.isclose(t.p_value, binomtest(only_a, n, 0.5).pvalue)
        else:
            stat = (abs(only_a - only_b) - 1) ** 2 / n
            assert not t.exact and np.isclose(t.p_value, chi2.sf(stat, 1))
