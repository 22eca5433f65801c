import numpy as np
from sklearn.metrics import balanced_accuracy_score, confusion_matrix as sk_confusion
from sklearn.metrics import top_k_accuracy_score

from bench.metrics.classification import classification_metrics, confusion_matrix
from bench.specs import Predictions


def test_classification_metrics_match_scikit_learn():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 12, size=300)
    scores = rng.normal(size=(300, 12)) + 2.0 * np.eye(12)[labels] * rng.random((300, 1))
    m = classification_metrics(Predictions([str(i) for i in range(300)], labels, scores))
    classes = np.arange(12)
    assert np.isclose(m["top1"], top_k_accuracy_score(labels, scores, k=1, labels=classes))
    assert np.isclose(m["top5"], top_k_accuracy_score(labels, scores, k=5, labels=classes))
    assert np.isclose(m["mean_class_acc"], balanced_accuracy_score(labels, scores.argmax(1)))
    np.testing.assert_array_equal(confusion_matrix(labels, scores.argmax(1), 12),
                                  sk_confusion(labels, scores.argmax(1), labels=classes))


def test_rouge_l_rewards_overlap():
    from bench.metrics.explanation import rouge_l

    ref = ["the right hand rises to the head"]
    assert rouge_l(["the right hand rises to the head"], ref) == 1.0
    assert rouge_l(["left leg kicks"], ref) < rouge_l(["right hand rises"], ref)
