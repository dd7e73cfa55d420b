#!/usr/bin/env python3
"""Regenerates cairn-chunkenc's golden XOR chunks from real Prometheus output.

Usage (needs `promtool`, e.g. `apt-get install prometheus`):

    python3 testdata/chunkenc/make_golden.py

1. Writes `input.om`: a deterministic OpenMetrics file (three series, 300 samples each at
   15 s steps, counters with a reset, NaN, +-Inf, -0, and timestamp jitter and gaps that hit
   every delta-of-delta bucket).
2. Runs `promtool tsdb create-blocks-from openmetrics input.om <tmp>`.
3. Reads the block's `chunks/000001` segment (magic 0x85BD40DD, version 1, 3 bytes padding,
   then per chunk: uvarint length, 1-byte encoding, data, 4-byte big-endian CRC32C of
   encoding + data), checks every CRC, and keeps each XOR chunk's data bytes.
4. Runs `promtool tsdb dump <tmp>` for the expected samples. Chunks are stored in the order
   dump prints series (sorted by labels), each series' chunks oldest first, so the dump is
   split by each chunk's own sample count (its first two bytes); each split is checked
   against the chunk's first timestamp (the varint after the count) and the generated input.
5. Writes `golden/chunk_NN.bin` (raw XOR chunk data: sample count to last padded byte) and
   `golden/chunk_NN.samples` (`# series ...`, then `timestamp_ms value f64_bits_hex` lines),
   plus `golden/truncated.bin`, chunk 00 without its last 3 bytes, for the corruption test.

Value bits come from the dump's shortest decimal, which round-trips exactly, except NaN:
Prometheus parses "NaN" with Go's strconv.ParseFloat, which returns math.NaN(), bits
0x7ff8000000000001. The Rust test decodes the chunks and compares those bits.
"""

import math
import pathlib
import re
import shutil
import struct
import subprocess
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
T0_MS = 1_700_006_400_000  # a multiple of 2 h, so every sample lands in one block
STEP_MS = 15_000
N = 300
GO_NAN_BITS = 0x7FF8000000000001


def om_timestamp(ms):
    """Seconds text that Prometheus turns back into exactly `ms`, by truncation or rounding."""
    for text in (f"{ms // 1000}.{ms % 1000:03d}", f"{ms // 1000}.{ms % 1000:03d}02"):
        scaled = float(text) * 1000
        if ms <= scaled < ms + 0.5:
            return text
    raise ValueError(ms)


def counter_series():
    value, out = 0, []
    for i in range(N):
        if i == 150:
            value = 0  # counter reset
        else:
            value += (i * 7) % 13
        out.append((T0_MS + i * STEP_MS, str(value)))
    return out


def gauge_series():
    specials = {
        37: "NaN", 74: "NaN", 111: "+Inf", 112: "-Inf", 113: "-0", 114: "0",
        # XOR of all 64 bits (stored as 0 significant bits), then one with > 31 leading zeros.
        200: "-1.5", 201: "1.0000000000000002", 202: "1", 203: "1.0000000000000002",
        250: "NaN", 251: "NaN",
    }
    out = []
    for i in range(N):
        value = specials.get(i, repr(round(20 + 5 * math.sin(i / 10), 3)))
        out.append((T0_MS + i * STEP_MS, value))
    return out


def jitter_series():
    # Extra milliseconds on top of the 15 s step, at chosen steps. Each makes a delta of
    # delta of +x then -x, so both edges of each bucket show up: 250, 8192 and -8191 ms
    # (14-bit bucket), 8193 and 65536 ms (17-bit), 65537 and 524288 ms (20-bit), 524289 ms
    # and 15 min (64-bit).
    extra = {10: 250, 20: 8192, 30: 8193, 50: 65_537, 100: 900_000, 110: -8_191,
             120: 65_536, 130: 524_288, 140: 524_289, 150: -5_000, 151: 1, 152: 2, 153: -3}
    t, out = T0_MS, []
    for i in range(N):
        if i:
            t += STEP_MS + extra.get(i, 0)
        value = "42" if i % 50 < 25 else repr(i * 0.5)
        out.append((t, value))
    return out


SERIES = [
    ("cairn_golden_requests", "counter", 'cairn_golden_requests_total{path="/api"}',
     counter_series()),
    ("cairn_golden_temperature_celsius", "gauge", "cairn_golden_temperature_celsius",
     gauge_series()),
    ("cairn_golden_jitter", "gauge", 'cairn_golden_jitter{kind="dod"}', jitter_series()),
]


def write_input(path):
    lines = []
    for family, kind, series, samples in SERIES:
        lines.append(f"# TYPE {family} {kind}")
        lines.extend(f"{series} {v} {om_timestamp(t)}" for t, v in samples)
    lines.append("# EOF")
    path.write_text("\n".join(lines) + "\n")


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def uvarint(buf, pos):
    x, shift = 0, 0
    while True:
        b = buf[pos]
        pos += 1
        x |= (b & 0x7F) << shift
        if b < 0x80:
            return x, pos
        shift += 7


def read_segment(path):
    buf = path.read_bytes()
    assert buf[:4] == b"\x85\xbd\x40\xdd", "chunks magic"
    assert buf[4] == 1, "chunks format version"
    pos, chunks = 8, []
    while pos < len(buf):
        length, pos = uvarint(buf, pos)
        encoding, data = buf[pos], buf[pos + 1:pos + 1 + length]
        (crc,) = struct.unpack(">I", buf[pos + 1 + length:pos + 5 + length])
        assert crc == crc32c(buf[pos:pos + 1 + length]), f"CRC of chunk at {pos}"
        assert encoding == 1, "only XOR chunks expected"
        chunks.append(data)
        pos += 5 + length
    return chunks


def value_bits(text):
    if text == "NaN":
        return GO_NAN_BITS
    return struct.unpack(">Q", struct.pack(">d", float(text)))[0]


def main():
    GOLDEN.mkdir(exist_ok=True)
    for old in GOLDEN.iterdir():
        old.unlink()
    write_input(HERE / "input.om")
    tmp = pathlib.Path(tempfile.mkdtemp())
    try:
        subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics",
                        str(HERE / "input.om"), str(tmp / "db")], check=True,
                       stdout=subprocess.DEVNULL)
        (blocks,) = [p for p in (tmp / "db").iterdir() if p.is_dir()]
        chunks = read_segment(blocks / "chunks" / "000001")
        (tmp / "db" / "wal").mkdir()  # dump opens the directory as a database
        dump = subprocess.run(["promtool", "tsdb", "dump", str(tmp / "db")], check=True,
                              capture_output=True, text=True).stdout
    finally:
        shutil.rmtree(tmp)

    series = []  # [(labels, [(t, value_text)])] in dump order
    for line in dump.splitlines():
        m = re.fullmatch(r"(\{.*\}) (\S+) (-?\d+)", line)
        assert m, line
        if not series or series[-1][0] != m[1]:
            series.append((m[1], []))
        series[-1][1].append((int(m[3]), m[2]))
    expected = {s: [(t, value_bits(v)) for t, v in samples] for _, _, s, samples in SERIES}
    assert sum(len(s) for _, s in series) == sum(len(s) for s in expected.values())

    index, rows = 0, [(labels, s) for labels, samples in series for s in samples]
    for n, data in enumerate(chunks):
        count = struct.unpack(">H", data[:2])[0]
        part, index = rows[index:index + count], index + count
        (labels,) = {labels for labels, _ in part}
        zigzag, _ = uvarint(data, 2)
        first_t = (zigzag >> 1) ^ -(zigzag & 1)
        assert first_t == part[0][1][0], f"chunk {n} starts at {first_t}"
        (GOLDEN / f"chunk_{n:02d}.bin").write_bytes(data)
        lines = [f"# series {labels}"]
        lines += [f"{t} {v} {value_bits(v):016x}" for _, (t, v) in part]
        (GOLDEN / f"chunk_{n:02d}.samples").write_text("\n".join(lines) + "\n")
    assert index == len(rows)

    # The dump must match what was generated, bit for bit.
    dumped = sorted([(t, value_bits(v)) for t, v in samples] for _, samples in series)
    assert dumped == sorted(expected.values()), "dumped samples differ from the input"

    (GOLDEN / "truncated.bin").write_bytes(chunks[0][:-3])
    print(f"{len(chunks)} chunks written to {GOLDEN}")


if __name__ == "__main__":
    main()
