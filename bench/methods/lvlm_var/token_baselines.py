"""Token-only baselines for LVLM-VAR (issue 14 item 2): what do the tokens alone tell?

Both classify each clip from its discrete token sequence (ints in [0, vocab_size)) with no
language model, on the same tokens the LM sees, so a table can show what the LM adds:

- `bag_of_tokens_scores`: multinomial logistic regression on per-clip token frequencies plus
  frequencies of consecutive-token bigrams (hashed into a bounded number of buckets), columns
  max-abs scaled, C chosen by stratified cross-validation on train.
- `sequence_model_scores`: embedding + one-layer bidirectional GRU + linear head (torch, CPU), the
  number of epochs chosen by early stopping on a stratified hold-out of train, then refit on all
  of train for that many epochs.

`shuffle_tokens` gives the token-order-shuffled control the method scores with its LM.

Scores are log-probabilities (N, num_classes); classes absent from train get a finite score below
every other score. Same inputs and seed give identical scores; no global RNG state or thread
setting is left changed.
"""
from __future__ import annotations

import warnings

import numpy as np

C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)
DEFAULT_C = 1.0                # used when train is too small to cross-validate
BIGRAM_BUCKETS = 4096          # bounds the bigram columns for large vocabularies (K=1024: 10^6 pairs)
MAX_CV_FOLDS = 3
ABSENT_CLASS_MARGIN = 10.0     # absent classes sit this far below the lowest real log-probability
HOLDOUT_FRACTION = 0.15
MIN_LOSS_DELTA = 1e-3          # at equal hold-out accuracy, smaller loss gains do not count (separable
                               # data would otherwise run every epoch just sharpening the softmax)


# ---------------------------------------------------------------- shared helpers

def _check_tokens(tokens: list[list[int]], vocab_size: int, what: str) -> None:
    for seq in tokens:
        for t in seq:
            if not 0 <= int(t) < vocab_size:
                raise ValueError(f"{what}: token {t} outside [0, {vocab_size})")


def _check_labels(labels: np.ndarray, num_classes: int) -> None:
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"train labels must lie in [0, {num_classes})")


def _full_class_scores(log_probs: np.ndarray, present: np.ndarray, num_classes: int) -> np.ndarray:
    """Spread (N, len(present)) log-probabilities over all classes; absent ones get a finite
    score below every present one (downstream argmax/top-k never picks them, no -inf to break means)."""
    n = log_probs.shape[0]
    finite_min = float(log_probs.min()) if log_probs.size else 0.0
    low = min(finite_min, 0.0) - ABSENT_CLASS_MARGIN
    scores = np.full((n, num_classes), low, dtype=np.float64)
    scores[:, present] = log_probs
    return scores


def _single_class_scores(n_test: int, cls: int, num_classes: int) -> np.ndarray:
    """Train with one class: nothing to learn but the prior, probability 1 on that class."""
    return _full_class_scores(np.zeros((n_test, 1)), np.array([cls]), num_classes)


def shuffle_tokens(tokens: list[list[int]], seed: int) -> list[list[int]]:
    """Each sequence's order permuted (its multiset kept): the order-shuffled control."""
    rng = np.random.default_rng(seed)
    return [[seq[i] for i in rng.permutation(len(seq))] for seq in tokens]


# ---------------------------------------------------------------- bag of tokens

def _bigram_column(a: np.ndarray, b: np.ndarray, vocab_size: int, buckets: int) -> np.ndarray:
    """Exact pair index when all K*K pairs fit, else a fixed multiplicative hash (deterministic
    across runs, unlike Python's hash) into `buckets` columns."""
    if vocab_size * vocab_size <= buckets:
        return a * vocab_size + b
    mixed = (a * np.int64(1_000_003) + b) * np.int64(2_654_435_761)
    return (mixed % np.int64(2**31 - 1)) % buckets


def _bigram_width(vocab_size: int, buckets: int) -> int:
    return min(vocab_size * vocab_size, buckets) if buckets > 0 else 0


def bag_of_tokens_features(tokens: list[list[int]], vocab_size: int,
                           bigram_buckets: int = BIGRAM_BUCKETS):
    """Sparse (N, K + B): unigram frequencies (counts / length), then bigram frequencies
    (counts / number of bigrams), so clips of different lengths are comparable."""
    from scipy import sparse

    width_bi = _bigram_width(vocab_size, bigram_buckets)
    rows, cols, vals = [], [], []
    for i, seq in enumerate(tokens):
        arr = np.asarray(seq, dtype=np.int64)
        if arr.size:
            rows.append(np.full(arr.size, i)); cols.append(arr)
            vals.append(np.full(arr.size, 1.0 / arr.size))
        if width_bi and arr.size > 1:
            pairs = _bigram_column(arr[:-1], arr[1:], vocab_size, bigram_buckets)
            rows.append(np.full(pairs.size, i)); cols.append(vocab_size + pairs)
            vals.append(np.full(pairs.size, 1.0 / pairs.size))
    shape = (len(tokens), vocab_size + width_bi)
    if not rows:
        return sparse.csr_matrix(shape)
    # duplicate (row, col) entries are summed: frequencies
    return sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                             shape=shape)


def _logistic(C: float):
    """Columns scaled to max |x| = 1 on the fitting clips: a frequency of 1/30 (one transition in
    a clip) would otherwise need C far outside the grid to count. Sparse-safe, no centring."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MaxAbsScaler
    # lbfgs fits the multinomial (softmax) model for more than two classes
    return make_pipeline(MaxAbsScaler(), LogisticRegression(C=C, max_iter=2000, tol=1e-4))


def _fit_quietly(model, X, y):
    from sklearn.exceptions import ConvergenceWarning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def _cv_folds(labels: np.ndarray) -> int:
    return min(MAX_CV_FOLDS, int(np.bincount(labels)[np.unique(labels)].min()))


def _choose_C(X, y: np.ndarray, seed: int) -> tuple[float, float | None]:
    """Stratified k-fold on train only; ties go to the smaller C (more regularised)."""
    from sklearn.model_selection import StratifiedKFold

    folds = _cv_folds(y)
    if folds < 2:
        return DEFAULT_C, None
    splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y))
    best_C, best_acc = DEFAULT_C, -1.0
    for C in C_GRID:
        accs = [np.mean(_fit_quietly(_logistic(C), X[tr], y[tr]).predict(X[va]) == y[va])
                for tr, va in splits]
        if np.mean(accs) > best_acc + 1e-12:
            best_C, best_acc = C, float(np.mean(accs))
    return best_C, best_acc


def bag_of_tokens_scores(train_tokens: list[list[int]], train_labels, test_tokens: list[list[int]],
                         vocab_size: int, num_classes: int, seed: int,
                         bigram_buckets: int = BIGRAM_BUCKETS) -> tuple[np.ndarray, dict]:
    """Best linear classifier over bag-of-tokens counts. `bigram_buckets=0`: unigrams only.
    Returns test log-probabilities (N, num_classes) and {"C", "cv_acc", "features"}."""
    y = np.asarray(train_labels, dtype=np.int64)
    _check_tokens(train_tokens, vocab_size, "train"); _check_tokens(test_tokens, vocab_size, "test")
    _check_labels(y, num_classes)
    present = np.unique(y)
    X_test = bag_of_tokens_features(test_tokens, vocab_size, bigram_buckets)
    info = {"C": None, "cv_acc": None, "features": int(X_test.shape[1])}
    if present.size == 0:
        raise ValueError("no train clips")
    if present.size == 1:
        return _single_class_scores(len(test_tokens), int(present[0]), num_classes), info
    X_train = bag_of_tokens_features(train_tokens, vocab_size, bigram_buckets)
    C, cv_acc = _choose_C(X_train, y, seed)
    model = _fit_quietly(_logistic(C), X_train, y)
    log_probs = model.predict_log_proba(X_test) if len(test_tokens) else np.zeros((0, present.size))
    info.update(C=C, cv_acc=cv_acc)
    return _full_class_scores(log_probs, model.classes_, num_classes), info


# ---------------------------------------------------------------- sequence model

def _gru_classifier(vocab_size: int, num_classes: int, embed: int, hidden: int, dropout: float):
    import torch
    from torch import nn

    class TokenGRU(nn.Module):
        """Embedding -> bidirectional GRU -> [last forward state, last backward state] -> linear."""

        def __init__(self):
            super().__init__()
            self.pad = vocab_size
            self.embed = nn.Embedding(vocab_size + 1, embed, padding_idx=self.pad)
            self.drop = nn.Dropout(dropout)
            self.gru = nn.GRU(embed, hidden, batch_first=True, bidirectional=True)
            self.head = nn.Linear(2 * hidden, num_classes)

        def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
            x = self.drop(self.embed(ids))
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                                       enforce_sorted=False)
            _, h = self.gru(packed)                      # h: (2, B, hidden), padding skipped
            return self.head(self.drop(torch.cat([h[0], h[1]], dim=1)))

    return TokenGRU()


def _pad_batch(tokens: list[list[int]], index: np.ndarray, pad: int):
    """(B, T) ids padded with `pad`, and lengths; an empty clip becomes one pad token."""
    import torch
    seqs = [tokens[i] if len(tokens[i]) else [pad] for i in index]
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.int64)
    ids = torch.full((len(seqs), int(lengths.max())), pad, dtype=torch.int64)
    for row, s in enumerate(seqs):
        ids[row, :len(s)] = torch.as_tensor(s, dtype=torch.int64)
    return ids, lengths


def _stratified_holdout(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of hold-out clips: ~fraction of each class with at least 2 clips (>= 1 each),
    so every class keeps a clip to train on."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(labels.size, dtype=bool)
    for cls in np.unique(labels):
        members = np.flatnonzero(labels == cls)
        if members.size >= 2:
            take = max(1, int(round(fraction * members.size)))
            mask[rng.choice(members, min(take, members.size - 1), replace=False)] = True
    return mask


def _predict_log_probs(model, tokens: list[list[int]], batch_size: int) -> np.ndarray:
    import torch
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(tokens), batch_size):
            ids, lengths = _pad_batch(tokens, np.arange(start, min(start + batch_size, len(tokens))),
                                      model.pad)
            out.append(torch.log_softmax(model(ids, lengths), dim=1).double().numpy())
    return np.concatenate(out) if out else np.zeros((0, model.head.out_features))


def _train_epochs(model, tokens, labels: np.ndarray, epochs: int, batch_size: int, lr: float,
                  rng: np.random.Generator, on_epoch=None) -> None:
    """Adam, mini-batches in a seeded order; on_epoch(epoch) -> True stops early."""
    import torch
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    y = torch.as_tensor(labels, dtype=torch.int64)
    for epoch in range(1, epochs + 1):
        model.train()
        order = rng.permutation(len(tokens))
        for start in range(0, len(order), batch_size):
            index = order[start:start + batch_size]
            ids, lengths = _pad_batch(tokens, index, model.pad)
            loss = torch.nn.functional.cross_entropy(model(ids, lengths), y[index])
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
        if on_epoch is not None and on_epoch(epoch):
            return


def _early_stopping_epochs(make_model, tokens, labels, holdout: np.ndarray, max_epochs: int,
                           patience: int, batch_size: int, lr: float, seed: int) -> tuple[int, float]:
    """Train on the non-held-out clips; best epoch by hold-out accuracy, at equal accuracy by a
    hold-out loss lower by at least MIN_LOSS_DELTA; stop after `patience` epochs without one."""
    fit_idx, val_idx = np.flatnonzero(~holdout), np.flatnonzero(holdout)
    fit_tokens = [tokens[i] for i in fit_idx]
    val_tokens, val_labels = [tokens[i] for i in val_idx], labels[val_idx]
    model = make_model()
    best = {"epoch": 1, "acc": -1.0, "loss": np.inf}

    def score_epoch(epoch: int) -> bool:
        lp = _predict_log_probs(model, val_tokens, batch_size)
        acc = float(np.mean(lp.argmax(1) == val_labels))
        loss = float(-lp[np.arange(len(val_labels)), val_labels].mean())
        if acc > best["acc"] or (acc == best["acc"] and loss < best["loss"] - MIN_LOSS_DELTA):
            best.update(epoch=epoch, acc=acc, loss=loss)
        return epoch - best["epoch"] >= patience

    _train_epochs(model, fit_tokens, labels[fit_idx], max_epochs, batch_size, lr,
                  np.random.default_rng(seed), score_epoch)
    return best["epoch"], best["acc"]


def sequence_model_scores(train_tokens: list[list[int]], train_labels, test_tokens: list[list[int]],
                          vocab_size: int, num_classes: int, seed: int, epochs: int = 30,
                          patience: int = 5, embed: int = 64, hidden: int = 64,
                          dropout: float = 0.2, batch_size: int = 64, lr: float = 5e-3,
                          fallback_epochs: int = 15) -> tuple[np.ndarray, dict]:
    """Small bidirectional-GRU classifier over the tokens. `epochs` is the most early stopping
    may pick; with no hold-out possible (every class a single clip) `fallback_epochs` are used.
    Returns test log-probabilities (N, num_classes) and {"epochs", "holdout_acc", "holdout_size"}."""
    import torch

    y = np.asarray(train_labels, dtype=np.int64)
    _check_tokens(train_tokens, vocab_size, "train"); _check_tokens(test_tokens, vocab_size, "test")
    _check_labels(y, num_classes)
    present = np.unique(y)
    if present.size == 0:
        raise ValueError("no train clips")
    info = {"model": "bigru", "epochs": 0, "holdout_acc": None, "holdout_size": 0}
    if present.size == 1:
        return _single_class_scores(len(test_tokens), int(present[0]), num_classes), info

    def make_model():
        return _gru_classifier(vocab_size, num_classes, embed, hidden, dropout)

    # fork_rng restores the global torch RNG afterwards; inside, init and dropout draw from `seed`
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        holdout = _stratified_holdout(y, HOLDOUT_FRACTION, seed)
        chosen, holdout_acc = fallback_epochs, None
        if holdout.any():
            chosen, holdout_acc = _early_stopping_epochs(make_model, train_tokens, y, holdout,
                                                         epochs, patience, batch_size, lr, seed)
        torch.manual_seed(seed)
        model = make_model()
        _train_epochs(model, train_tokens, y, chosen, batch_size, lr, np.random.default_rng(seed))
        log_probs = _predict_log_probs(model, test_tokens, 256)
    info.update(epochs=int(chosen), holdout_acc=holdout_acc, holdout_size=int(holdout.sum()))
    # the head covers every class; absent ones are floored like the linear baseline's
    return _full_class_scores(log_probs[:, present], present, num_classes), info
