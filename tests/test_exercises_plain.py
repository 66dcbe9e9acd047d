"""rnnlib.exercises.plain: to_plain validates, dump/load round-trip plain data and load refuses
hostile folders (deep nesting, huge or pickled or object-dtype arrays, symlinks, NaN literals,
wrong JSON types) with PlainDataError and nothing else."""
import json
import math
import os

import numpy as np
import pytest

from rnnlib.exercises.plain import PlainDataError, dump, load, plain_equal, snapshot, to_plain


class Always(np.ndarray):
    def __eq__(self, other):
        return True


SAMPLES = [
    None, True, 0, -7, 2 ** 80, 1.5, float("nan"), float("inf"), -float("inf"), 1 + 2j, "", "é\"\\",
    np.arange(6.0).reshape(2, 3), np.zeros((0, 3), dtype=np.float32), np.array(True), np.array([1, 2], dtype=np.uint8),
    np.array([1 + 1j]), np.asfortranarray(np.arange(6).reshape(2, 3)), np.array(np.nan),
    [1, [2, (3, "x")]], (), [], {}, {"a": {"b": [np.ones(2)]}, "t": (1, 2.5, None)},
    {"dict": 1, "tuple": [1], "ndarray": "a0.npy"},              # keys that look like the tags
]


@pytest.mark.parametrize("value", SAMPLES, ids=[str(i) for i in range(len(SAMPLES))])
def test_round_trip(value, tmp_path):
    dump(value, tmp_path / "d")
    back = load(tmp_path / "d")
    assert plain_equal(back, to_plain(value))
    assert plain_equal(to_plain(value), value) or isinstance(value, np.ndarray)


def test_to_plain_converts_and_refuses():
    sub = np.arange(3.0).view(Always)
    out = to_plain({"x": sub, "n": np.float32(1.5), "i": np.int64(3), "b": np.bool_(True)})
    assert type(out["x"]) is np.ndarray and not np.array_equal(out["x"], np.zeros(3))
    assert type(out["n"]) is float and type(out["i"]) is int and out["b"] is True
    for bad in (np.array([object()]), np.array(["a"]), {1: 2}, {"f": len}, object(), {1, 2},
                np.zeros(2, dtype=[("a", float)]), np.datetime64("2020")):
        with pytest.raises(PlainDataError):
            to_plain(bad)
    deep = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(PlainDataError, match="deep"):
        to_plain(deep)


def test_snapshot_never_raises_and_describes():
    assert snapshot(len) == {"opaque": "a function"}
    assert snapshot({"b", "a"}) == ["a", "b"]
    assert snapshot((np.float32(2), [object()]))[1] == [{"opaque": "a object"}]
    assert snapshot({1: 2}) == {"opaque": "a dict with int keys"}

    class Hostile(list):
        def __iter__(self):
            raise RuntimeError("no")
    assert isinstance(snapshot(Hostile([1])), list)           # read through list's own iterator
    deep = ()
    for _ in range(10000):
        deep = (deep,)
    assert "opaque" in str(snapshot(deep))
    assert type(snapshot(np.arange(3).view(Always))) is np.ndarray


def _write(folder, text, **arrays):
    os.makedirs(folder, exist_ok=True)
    (folder / "data.json").write_text(text)
    for name, array in arrays.items():
        np.save(folder / name, array, allow_pickle=True)


def hostile_folders(tmp_path):
    cases = {}
    f = tmp_path / "deep"
    _write(f, "[" * 100000 + "]" * 100000)
    cases["deep nesting"] = f
    f = tmp_path / "deep_tags"
    _write(f, '{"tuple":' * 5000 + "[]" + "}" * 5000)
    cases["deep tags"] = f
    f = tmp_path / "object"
    _write(f, '{"ndarray": "a0.npy"}', **{"a0.npy": np.array([1, "x", None], dtype=object)})
    cases["object dtype npy"] = f
    f = tmp_path / "pickle"
    os.makedirs(f)
    (f / "data.json").write_text('{"ndarray": "a0.npy"}')
    import pickle
    (f / "a0.npy").write_bytes(pickle.dumps(np.arange(3)))
    cases["pickled npy"] = f
    f = tmp_path / "huge"
    os.makedirs(f)
    (f / "data.json").write_text('{"ndarray": "a0.npy"}')
    header = b"\x93NUMPY\x01\x00" + b"v\x00" + b"{'descr': '<f8', 'fortran_order': False, 'shape': (100000000000,), }".ljust(117) + b"\n"
    (f / "a0.npy").write_bytes(header + b"\x00" * 64)
    cases["huge promised array"] = f
    f = tmp_path / "big"
    _write(f, '{"ndarray": "a0.npy"}', **{"a0.npy": np.zeros(300_000)})
    cases["array over the cap"] = f
    f = tmp_path / "truncated"
    _write(f, '{"ndarray": "a0.npy"}', **{"a0.npy": np.zeros(10)})
    (f / "a0.npy").write_bytes((f / "a0.npy").read_bytes()[:-8])
    cases["truncated npy"] = f
    f = tmp_path / "nan"
    _write(f, "[NaN, Infinity]")
    cases["NaN literal"] = f
    for name, text in {"unknown tag": '{"set": [1]}', "two keys": '{"dict": {}, "tuple": []}',
                       "dict tag with list": '{"dict": [1]}', "bad float tag": '{"float": "one"}',
                       "complex of str": '{"complex": ["a", 1]}', "missing array": '{"ndarray": "a7.npy"}',
                       "array name traversal": '{"ndarray": "../a0.npy"}', "not json": "{nope",
                       "repeated key": '{"dict": {"a": 1, "a": 2}}', "bad utf8": None,
                       "huge int": "1" * 5000, "array twice": '[{"ndarray": "a0.npy"}, {"ndarray": "a0.npy"}]'}.items():
        f = tmp_path / name.replace(" ", "_")
        if text is None:
            os.makedirs(f)
            (f / "data.json").write_bytes(b"\xff\xfe[")
        else:
            _write(f, text, **({"a0.npy": np.zeros(2)} if "array" in name else {}))
        cases[name] = f
    f = tmp_path / "symlink_file"
    os.makedirs(f)
    (tmp_path / "elsewhere.json").write_text("[1]")
    os.symlink(tmp_path / "elsewhere.json", f / "data.json")
    cases["symlinked data.json"] = f
    f = tmp_path / "symlink_npy"
    _write(f, '{"ndarray": "a0.npy"}')
    np.save(tmp_path / "x.npy", np.zeros(2))
    os.symlink(tmp_path / "x.npy", f / "a0.npy")
    cases["symlinked npy"] = f
    f = tmp_path / "linkdir"
    dump([1], tmp_path / "real")
    os.symlink(tmp_path / "real", f)
    cases["symlinked folder"] = f
    f = tmp_path / "extra"
    _write(f, "[1]")
    (f / "notes.txt").write_text("hi")
    cases["unexpected file"] = f
    f = tmp_path / "fifo"
    os.makedirs(f)
    os.mkfifo(f / "data.json")
    cases["fifo data.json"] = f
    cases["missing folder"] = tmp_path / "nowhere"
    f = tmp_path / "structured"
    _write(f, '{"ndarray": "a0.npy"}', **{"a0.npy": np.zeros(2, dtype=[("a", "<f8")])})
    cases["structured dtype"] = f
    f = tmp_path / "strings"
    _write(f, '{"ndarray": "a0.npy"}', **{"a0.npy": np.array(["abc"])})
    cases["str dtype"] = f
    return cases


def test_load_refuses_hostile_folders_with_plain_data_error(tmp_path):
    for name, folder in hostile_folders(tmp_path).items():
        with pytest.raises(PlainDataError):
            load(folder, max_bytes=1_000_000, max_depth=32)
            pytest.fail(f"loaded {name}")


def test_dump_caps_size_and_refuses_non_plain(tmp_path):
    with pytest.raises(PlainDataError, match="cap"):
        dump(np.zeros(1000), tmp_path / "a", max_bytes=1000)
    with pytest.raises(PlainDataError):
        dump({"f": print}, tmp_path / "b")
    dump({"x": np.zeros(10)}, tmp_path / "c", max_bytes=10_000)
    assert json.loads((tmp_path / "c" / "data.json").read_text()) == {"dict": {"x": {"ndarray": "a0.npy"}}}
    assert math.isnan(load(tmp_path / "c", max_bytes=10_000)["x"].sum() * np.nan)
