"""Pins the rows each DataRearrangement selects, and the invalid-row accounting, as the
line-by-line reader of 2026-11 computed them (values below were produced by it), so that
a faster reader must select exactly the same rows: faster, not different.

Two small files with a header, a BOM, CRLF and LF line ends, blank lines, quoted fields and
invalid rows (too few values, malformed quoting, bad numbers, bad binaries); sequential
and random splits with their complements, seeds given three ways, and the ``split_names``
that database data sources hash instead of file names.
"""
from __future__ import annotations

import hashlib
import json
import random

import pytest

from emulator.engines.amazonml.datasets import load_dataset
from emulator.engines.amazonml.schema import parse_schema

SCHEMA = json.dumps({"version": "1.0", "dataFormat": "CSV", "dataFileContainsHeader": True,
                     "targetAttributeName": "b",
                     "attributes": [{"attributeName": "id", "attributeType": "CATEGORICAL"},
                                    {"attributeName": "x", "attributeType": "NUMERIC"},
                                    {"attributeName": "colour", "attributeType": "CATEGORICAL"},
                                    {"attributeName": "b", "attributeType": "BINARY"}]})


def files(quoted: bool = True) -> list[tuple[str, bytes]]:
    """Two small files: header, BOM, CRLF, blank lines, quoting (or, without ``quoted``,
    whitespace-only lines and non-ASCII text instead), and invalid rows."""
    rng = random.Random(11)
    out = []
    for fi, (name, newline, bom) in enumerate((("part-a.csv", "\r\n", True), ("dir/part-b.csv", "\n", False))):
        lines = ["id,x,colour,b"]
        for i in range(45):
            rid = f"{fi}-{i}"
            kind = rng.random()
            if kind < 0.06:
                lines.append(f"{rid},{rng.random():.3f},red")  # too few values
            elif kind < 0.10:
                lines.append(f"{rid},not-a-number,blue,1")
            elif kind < 0.13:
                lines.append(f"{rid},{rng.random():.3f},green,maybe")
            elif kind < 0.16:
                lines.append(f'{rid},1.5,"bad "quote,0' if quoted else f"{rid},1.5,bad,quote,0")
            elif kind < 0.20:
                lines.append("" if quoted else " \t ")
                lines.append(f'{rid},{rng.random():.2f},{chr(34) + "red, dark" + chr(34) if quoted else "rouge foncé"},'
                             f'{rng.randint(0, 1)}')
            else:
                lines.append(f"{rid},{rng.gauss(0, 1):.4f},"
                             f"{rng.choice(['red', 'blue', 'green'])},{rng.choice(['0', '1', 'true', 'no'])}")
        data = newline.join(lines) + (newline if quoted or fi == 0 else "")  # unquoted b: no final newline
        out.append((name, (b"\xef\xbb\xbf" if bom else b"") + data.encode()))
    return out


CASES = {
    "all": None,
    "seq-0-70": {"splitting": {"percentBegin": 0, "percentEnd": 70}},
    "seq-0-70-complement": {"splitting": {"percentBegin": 0, "percentEnd": 70, "complement": True}},
    "seq-25.5-60.25": {"splitting": {"percentBegin": 25.5, "percentEnd": 60.25}},
    "seq-70-100-string": {"splitting": {"percentBegin": "70", "percentEnd": "100", "strategy": "sequential"}},
    "random-s1-0-70": {"splitting": {"percentBegin": 0, "percentEnd": 70, "strategy": "random",
                                     "strategyParams": {"randomSeed": "s1"}}},
    "random-s1-0-70-complement": {"splitting": {"percentBegin": 0, "percentEnd": 70, "strategy": "random",
                                                "strategyParams": {"randomSeed": "s1"}, "complement": "true"}},
    "random-42-10-35": {"splitting": {"percentBegin": 10, "percentEnd": 35, "strategy": "random", "randomSeed": 42}},
    "random-default-seed-50-100": {"splitting": {"percentBegin": 50, "strategy": "random"}},
}


EXAMPLES = ["'part-a.csv' line 10: expected 4 comma-separated values (or malformed quoting)",
 "'part-a.csv' line 16: expected 4 comma-separated values (or malformed quoting)",
 "'part-a.csv' line 25: expected 4 comma-separated values (or malformed quoting)",
 "'part-a.csv' line 32: expected 4 comma-separated values (or malformed quoting)",
 "'part-a.csv' line 35: expected 4 comma-separated values (or malformed quoting)"]
PINNED = {('all', None): ('0-0 0-1 0-2 0-4 0-5 0-6 0-8 0-9 0-10 0-11 0-12 0-15 0-16 0-17 0-18 0-20 0-21 0-23 0-24 '
                 '0-26 0-27 0-29 0-30 0-32 0-33 0-34 0-35 0-36 0-37 0-38 0-39 0-40 0-41 0-42 0-44 1-0 1-1 '
                 '1-2 1-3 1-4 1-5 1-6 1-7 1-8 1-9 1-10 1-12 1-13 1-14 1-15 1-18 1-20 1-21 1-22 1-23 1-24 '
                 '1-26 1-27 1-28 1-29 1-30 1-31 1-32 1-33 1-34 1-35 1-36 1-37 1-38 1-39 1-40 1-41 1-43 1-44',
                 90,
                 16,
                 (4, 4),
                 'b4a7f185c37da751b4b9',
                 '47029a0ad686fe077cff',
                 'f04ccc8710e9265492dc'),
 ('all', ('a', 'b')): ('0-0 0-1 0-2 0-4 0-5 0-6 0-8 0-9 0-10 0-11 0-12 0-15 0-16 0-17 0-18 0-20 0-21 0-23 '
                       '0-24 0-26 0-27 0-29 0-30 0-32 0-33 0-34 0-35 0-36 0-37 0-38 0-39 0-40 0-41 0-42 0-44 '
                       '1-0 1-1 1-2 1-3 1-4 1-5 1-6 1-7 1-8 1-9 1-10 1-12 1-13 1-14 1-15 1-18 1-20 1-21 1-22 '
                       '1-23 1-24 1-26 1-27 1-28 1-29 1-30 1-31 1-32 1-33 1-34 1-35 1-36 1-37 1-38 1-39 1-40 '
                       '1-41 1-43 1-44',
                       90,
                       16,
                       (4, 4),
                       'b4a7f185c37da751b4b9',
                       '47029a0ad686fe077cff',
                       'f04ccc8710e9265492dc'),
 ('seq-0-70', None): ('0-0 0-1 0-2 0-4 0-5 0-6 0-8 0-9 0-10 0-11 0-12 0-15 0-16 0-17 0-18 0-20 0-21 0-23 '
                      '0-24 0-26 0-27 0-29 0-30 0-32 0-33 0-34 0-35 0-36 0-37 0-38 0-39 0-40 0-41 0-42 0-44 '
                      '1-0 1-1 1-2 1-3 1-4 1-5 1-6 1-7 1-8 1-9 1-10 1-12 1-13 1-14 1-15',
                      63,
                      13,
                      (4, 3),
                      '38f231bc26469b093614',
                      '12d397de1f163010b6ad',
                      '8acae875268d029bb9f9'),
 ('seq-0-70', ('a', 'b')): ('0-0 0-1 0-2 0-4 0-5 0-6 0-8 0-9 0-10 0-11 0-12 0-15 0-16 0-17 0-18 0-20 0-21 '
                            '0-23 0-24 0-26 0-27 0-29 0-30 0-32 0-33 0-34 0-35 0-36 0-37 0-38 0-39 0-40 0-41 '
                            '0-42 0-44 1-0 1-1 1-2 1-3 1-4 1-5 1-6 1-7 1-8 1-9 1-10 1-12 1-13 1-14 1-15',
                            63,
                            13,
                            (4, 3),
                            '38f231bc26469b093614',
                            '12d397de1f163010b6ad',
                            '8acae875268d029bb9f9'),
 ('seq-0-70-complement', None): ('1-18 1-20 1-21 1-22 1-23 1-24 1-26 1-27 1-28 1-29 1-30 1-31 1-32 1-33 1-34 '
                                 '1-35 1-36 1-37 1-38 1-39 1-40 1-41 1-43 1-44',
                                 27,
                                 3,
                                 (0, 1),
                                 '73ae15ee6c30fe5b5772',
                                 '9ede00af0c6af69e8a06',
                                 '26824167d22193039935'),
 ('seq-0-70-complement', ('a', 'b')): ('1-18 1-20 1-21 1-22 1-23 1-24 1-26 1-27 1-28 1-29 1-30 1-31 1-32 '
                                       '1-33 1-34 1-35 1-36 1-37 1-38 1-39 1-40 1-41 1-43 1-44',
                                       27,
                                       3,
                                       (0, 1),
                                       '73ae15ee6c30fe5b5772',
                                       '9ede00af0c6af69e8a06',
                                       '26824167d22193039935'),
 ('seq-25.5-60.25', None): ('0-23 0-24 0-26 0-27 0-29 0-30 0-32 0-33 0-34 0-35 0-36 0-37 0-38 0-39 0-40 0-41 '
                            '0-42 0-44 1-0 1-1 1-2 1-3 1-4 1-5 1-6 1-7 1-8 1-9',
                            32,
                            4,
                            (1, 1),
                            'f287c393d833e2f8ad4a',
                            'f554b0f41a65f7708c43',
                            '2bcb0cf6f03546a58cea'),
 ('seq-25.5-60.25', ('a', 'b')): ('0-23 0-24 0-26 0-27 0-29 0-30 0-32 0-33 0-34 0-35 0-36 0-37 0-38 0-39 '
                                  '0-40 0-41 0-42 0-44 1-0 1-1 1-2 1-3 1-4 1-5 1-6 1-7 1-8 1-9',
                                  32,
                                  4,
                                  (1, 1),
                                  'f287c393d833e2f8ad4a',
                                  'f554b0f41a65f7708c43',
                                  '2bcb0cf6f03546a58cea'),
 ('seq-70-100-string', None): ('1-18 1-20 1-21 1-22 1-23 1-24 1-26 1-27 1-28 1-29 1-30 1-31 1-32 1-33 1-34 '
                               '1-35 1-36 1-37 1-38 1-39 1-40 1-41 1-43 1-44',
                               27,
                               3,
                               (0, 1),
                               '73ae15ee6c30fe5b5772',
                               '9ede00af0c6af69e8a06',
                               '26824167d22193039935'),
 ('seq-70-100-string', ('a', 'b')): ('1-18 1-20 1-21 1-22 1-23 1-24 1-26 1-27 1-28 1-29 1-30 1-31 1-32 1-33 '
                                     '1-34 1-35 1-36 1-37 1-38 1-39 1-40 1-41 1-43 1-44',
                                     27,
                                     3,
                                     (0, 1),
                                     '73ae15ee6c30fe5b5772',
                                     '9ede00af0c6af69e8a06',
                                     '26824167d22193039935'),
 ('random-s1-0-70', None): ('0-0 0-2 0-4 0-5 0-8 0-11 0-15 0-16 0-17 0-18 0-20 0-21 0-24 0-27 0-29 0-32 0-33 '
                            '0-34 0-35 0-36 0-37 0-39 0-41 1-0 1-1 1-2 1-4 1-5 1-6 1-7 1-8 1-9 1-12 1-13 '
                            '1-14 1-15 1-18 1-20 1-21 1-23 1-24 1-26 1-27 1-28 1-29 1-32 1-33 1-34 1-35 1-38 '
                            '1-39 1-40 1-41 1-44',
                            66,
                            12,
                            (4, 3),
                            'f125960519971472d257',
                            'fdde71d79f9ab572b6b1',
                            'c52a32154697f8d82b7c'),
 ('random-s1-0-70', ('a', 'b')): ('0-0 0-1 0-4 0-5 0-9 0-10 0-11 0-12 0-15 0-17 0-20 0-21 0-23 0-27 0-29 '
                                  '0-32 0-33 0-34 0-35 0-36 0-39 0-40 0-41 0-42 0-44 1-0 1-1 1-2 1-3 1-4 1-6 '
                                  '1-8 1-9 1-12 1-13 1-14 1-15 1-20 1-21 1-22 1-23 1-24 1-27 1-30 1-31 1-32 '
                                  '1-33 1-34 1-35 1-36 1-37 1-40 1-43',
                                  64,
                                  11,
                                  (2, 3),
                                  '0263054a03a1286cc79d',
                                  '83af87ef2006de1be832',
                                  'a910c971c582d7841c34'),
 ('random-s1-0-70-complement', None): ('0-1 0-6 0-9 0-10 0-12 0-23 0-26 0-30 0-38 0-40 0-42 0-44 1-3 1-10 '
                                       '1-22 1-30 1-31 1-36 1-37 1-43',
                                       24,
                                       4,
                                       (0, 1),
                                       'ebb64034cb3a7be0ae52',
                                       '7de8b2ae13517d836cef',
                                       'bea79466f364dbd6b8d9'),
 ('random-s1-0-70-complement', ('a', 'b')): ('0-2 0-6 0-8 0-16 0-18 0-24 0-26 0-30 0-37 0-38 1-5 1-7 1-10 '
                                             '1-18 1-26 1-28 1-29 1-38 1-39 1-41 1-44',
                                             26,
                                             5,
                                             (2, 1),
                                             '343a663f82d3a632cdcb',
                                             'b96b9b18e1d63172bd14',
                                             '1ce10077ee8f0f424929'),
 ('random-42-10-35', None): ('0-9 0-10 0-11 0-20 0-26 0-39 1-4 1-9 1-14 1-18 1-21 1-27 1-31 1-32 1-35 1-36 '
                             '1-44',
                             19,
                             2,
                             (1, 0),
                             'fe31697effac49055c25',
                             'd2b171421dc1f7c0dd94',
                             '27202967785f1c4e90be'),
 ('random-42-10-35', ('a', 'b')): ('0-0 0-4 0-5 0-16 0-21 0-34 0-38 0-44 1-0 1-1 1-7 1-14 1-15 1-29 1-33 '
                                   '1-35 1-37 1-41',
                                   22,
                                   4,
                                   (0, 2),
                                   '86eb19b8e42aaaf95968',
                                   '7c8a4d3814b71974d368',
                                   '97b295738eb55b22ca72'),
 ('random-default-seed-50-100', None): ('0-2 0-4 0-8 0-10 0-12 0-18 0-24 0-26 0-27 0-33 0-35 0-38 0-39 0-40 '
                                        '0-44 1-0 1-1 1-3 1-4 1-5 1-7 1-9 1-12 1-14 1-15 1-18 1-20 1-21 1-23 '
                                        '1-26 1-27 1-28 1-29 1-30 1-34 1-35 1-36 1-44',
                                        48,
                                        10,
                                        (4, 2),
                                        'bbeba033c580bc0ca6ba',
                                        'c84b225c321193ff69fb',
                                        'b032876087639fec172b'),
 ('random-default-seed-50-100', ('a', 'b')): ('0-2 0-5 0-6 0-8 0-10 0-12 0-15 0-16 0-17 0-18 0-21 0-24 0-26 '
                                              '0-27 0-33 0-35 0-36 0-37 0-40 0-44 1-2 1-4 1-5 1-8 1-10 1-12 '
                                              '1-14 1-15 1-20 1-21 1-23 1-26 1-28 1-32 1-33 1-35 1-36 1-38 '
                                              '1-43',
                                              44,
                                              5,
                                              (2, 3),
                                              '17549e2fa3df9da466a0',
                                              '33d19270de1b545dcad0',
                                              'da4895e249fddfaef42d')}

EXAMPLES_UNQUOTED = ["'part-a.csv' line 10: expected 4 comma-separated values (or malformed quoting)",
 "'part-a.csv' line 16: expected 4 comma-separated values (or malformed quoting)",
 "'part-a.csv' line 25: expected 4 comma-separated values (or malformed quoting)",
 "'part-a.csv' line 32: expected 4 comma-separated values (or malformed quoting)",
 "'part-a.csv' line 35: expected 4 comma-separated values (or malformed quoting)"]
PINNED_UNQUOTED = {('all', None): ('0-0 0-1 0-2 0-4 0-5 0-6 0-8 0-9 0-10 0-11 0-12 0-15 0-16 0-17 0-18 0-20 0-21 0-23 0-24 '
                 '0-26 0-27 0-29 0-30 0-32 0-33 0-34 0-35 0-36 0-37 0-38 0-39 0-40 0-41 0-42 0-44 1-0 1-1 '
                 '1-2 1-3 1-4 1-5 1-6 1-7 1-8 1-9 1-10 1-12 1-13 1-14 1-15 1-18 1-20 1-21 1-22 1-23 1-24 '
                 '1-26 1-27 1-28 1-29 1-30 1-31 1-32 1-33 1-34 1-35 1-36 1-37 1-38 1-39 1-40 1-41 1-43 1-44',
                 90,
                 16,
                 (4, 4),
                 'e3419d979b8510a10811',
                 '47029a0ad686fe077cff',
                 'f04ccc8710e9265492dc'),
 ('all', ('a', 'b')): ('0-0 0-1 0-2 0-4 0-5 0-6 0-8 0-9 0-10 0-11 0-12 0-15 0-16 0-17 0-18 0-20 0-21 0-23 '
                       '0-24 0-26 0-27 0-29 0-30 0-32 0-33 0-34 0-35 0-36 0-37 0-38 0-39 0-40 0-41 0-42 0-44 '
                       '1-0 1-1 1-2 1-3 1-4 1-5 1-6 1-7 1-8 1-9 1-10 1-12 1-13 1-14 1-15 1-18 1-20 1-21 1-22 '
                       '1-23 1-24 1-26 1-27 1-28 1-29 1-30 1-31 1-32 1-33 1-34 1-35 1-36 1-37 1-38 1-39 1-40 '
                       '1-41 1-43 1-44',
                       90,
                       16,
                       (4, 4),
                       'e3419d979b8510a10811',
                       '47029a0ad686fe077cff',
                       'f04ccc8710e9265492dc'),
 ('seq-0-70', None): ('0-0 0-1 0-2 0-4 0-5 0-6 0-8 0-9 0-10 0-11 0-12 0-15 0-16 0-17 0-18 0-20 0-21 0-23 '
                      '0-24 0-26 0-27 0-29 0-30 0-32 0-33 0-34 0-35 0-36 0-37 0-38 0-39 0-40 0-41 0-42 0-44 '
                      '1-0 1-1 1-2 1-3 1-4 1-5 1-6 1-7 1-8 1-9 1-10 1-12 1-13 1-14 1-15',
                      63,
                      13,
                      (4, 3),
                      'ef39f3b9fb99ab017b36',
                      '12d397de1f163010b6ad',
                      '8acae875268d029bb9f9'),
 ('seq-0-70', ('a', 'b')): ('0-0 0-1 0-2 0-4 0-5 0-6 0-8 0-9 0-10 0-11 0-12 0-15 0-16 0-17 0-18 0-20 0-21 '
                            '0-23 0-24 0-26 0-27 0-29 0-30 0-32 0-33 0-34 0-35 0-36 0-37 0-38 0-39 0-40 0-41 '
                            '0-42 0-44 1-0 1-1 1-2 1-3 1-4 1-5 1-6 1-7 1-8 1-9 1-10 1-12 1-13 1-14 1-15',
                            63,
                            13,
                            (4, 3),
                            'ef39f3b9fb99ab017b36',
                            '12d397de1f163010b6ad',
                            '8acae875268d029bb9f9'),
 ('seq-0-70-complement', None): ('1-18 1-20 1-21 1-22 1-23 1-24 1-26 1-27 1-28 1-29 1-30 1-31 1-32 1-33 1-34 '
                                 '1-35 1-36 1-37 1-38 1-39 1-40 1-41 1-43 1-44',
                                 27,
                                 3,
                                 (0, 1),
                                 '2d392ffb2723db3d8470',
                                 '9ede00af0c6af69e8a06',
                                 '26824167d22193039935'),
 ('seq-0-70-complement', ('a', 'b')): ('1-18 1-20 1-21 1-22 1-23 1-24 1-26 1-27 1-28 1-29 1-30 1-31 1-32 '
                                       '1-33 1-34 1-35 1-36 1-37 1-38 1-39 1-40 1-41 1-43 1-44',
                                       27,
                                       3,
                                       (0, 1),
                                       '2d392ffb2723db3d8470',
                                       '9ede00af0c6af69e8a06',
                                       '26824167d22193039935'),
 ('seq-25.5-60.25', None): ('0-23 0-24 0-26 0-27 0-29 0-30 0-32 0-33 0-34 0-35 0-36 0-37 0-38 0-39 0-40 0-41 '
                            '0-42 0-44 1-0 1-1 1-2 1-3 1-4 1-5 1-6 1-7 1-8 1-9',
                            32,
                            4,
                            (1, 1),
                            'b7aabd3082abdf5da7c0',
                            'f554b0f41a65f7708c43',
                            '2bcb0cf6f03546a58cea'),
 ('seq-25.5-60.25', ('a', 'b')): ('0-23 0-24 0-26 0-27 0-29 0-30 0-32 0-33 0-34 0-35 0-36 0-37 0-38 0-39 '
                                  '0-40 0-41 0-42 0-44 1-0 1-1 1-2 1-3 1-4 1-5 1-6 1-7 1-8 1-9',
                                  32,
                                  4,
                                  (1, 1),
                                  'b7aabd3082abdf5da7c0',
                                  'f554b0f41a65f7708c43',
                                  '2bcb0cf6f03546a58cea'),
 ('seq-70-100-string', None): ('1-18 1-20 1-21 1-22 1-23 1-24 1-26 1-27 1-28 1-29 1-30 1-31 1-32 1-33 1-34 '
                               '1-35 1-36 1-37 1-38 1-39 1-40 1-41 1-43 1-44',
                               27,
                               3,
                               (0, 1),
                               '2d392ffb2723db3d8470',
                               '9ede00af0c6af69e8a06',
                               '26824167d22193039935'),
 ('seq-70-100-string', ('a', 'b')): ('1-18 1-20 1-21 1-22 1-23 1-24 1-26 1-27 1-28 1-29 1-30 1-31 1-32 1-33 '
                                     '1-34 1-35 1-36 1-37 1-38 1-39 1-40 1-41 1-43 1-44',
                                     27,
                                     3,
                                     (0, 1),
                                     '2d392ffb2723db3d8470',
                                     '9ede00af0c6af69e8a06',
                                     '26824167d22193039935'),
 ('random-s1-0-70', None): ('0-0 0-4 0-5 0-6 0-10 0-11 0-12 0-15 0-16 0-17 0-18 0-20 0-21 0-23 0-24 0-26 '
                            '0-29 0-30 0-33 0-37 0-38 0-40 0-41 0-42 1-0 1-1 1-2 1-4 1-5 1-6 1-7 1-8 1-9 '
                            '1-12 1-13 1-14 1-15 1-18 1-22 1-23 1-24 1-26 1-27 1-28 1-29 1-32 1-33 1-34 1-35 '
                            '1-39 1-40 1-41 1-43 1-44',
                            68,
                            14,
                            (3, 3),
                            '02c98c77d58d4c0c12aa',
                            '6154de1ab1483c1ac93e',
                            '6ddd8232f48f30667460'),
 ('random-s1-0-70', ('a', 'b')): ('0-0 0-1 0-2 0-4 0-5 0-6 0-8 0-15 0-17 0-20 0-21 0-23 0-24 0-26 0-29 0-30 '
                                  '0-34 0-36 0-38 0-39 0-40 0-41 0-42 1-0 1-1 1-2 1-3 1-4 1-6 1-8 1-9 1-12 '
                                  '1-13 1-14 1-15 1-20 1-21 1-22 1-24 1-27 1-30 1-31 1-32 1-33 1-34 1-35 '
                                  '1-36 1-37 1-38 1-40 1-44',
                                  59,
                                  8,
                                  (1, 3),
                                  'd161d9e5598c40e3b078',
                                  'da77515fe9601386723f',
                                  'b1a146da63dee9b002bd'),
 ('random-s1-0-70-complement', None): ('0-1 0-2 0-8 0-9 0-27 0-32 0-34 0-35 0-36 0-39 0-44 1-3 1-10 1-20 '
                                       '1-21 1-30 1-31 1-36 1-37 1-38',
                                       22,
                                       2,
                                       (1, 1),
                                       '1f6bda5068625fd44b49',
                                       'aff847fc3d39eccf89a3',
                                       '5e7436123f7fc244b8f9'),
 ('random-s1-0-70-complement', ('a', 'b')): ('0-9 0-10 0-11 0-12 0-16 0-18 0-27 0-32 0-33 0-35 0-37 0-44 1-5 '
                                             '1-7 1-10 1-18 1-23 1-26 1-28 1-29 1-39 1-41 1-43',
                                             31,
                                             8,
                                             (3, 1),
                                             'b003a3a1b179828f1fa2',
                                             '773290f2c301163c8798',
                                             'c0a852ef66f760b972f2'),
 ('random-42-10-35', None): ('0-4 0-5 0-6 0-11 0-12 0-18 0-32 0-37 1-4 1-9 1-14 1-18 1-20 1-21 1-24 1-27 '
                             '1-31 1-32 1-35 1-36 1-40',
                             26,
                             5,
                             (0, 2),
                             'e41fc6ed1f8a93205b98',
                             '0f5c89c8c0799ef49a5c',
                             '6a2cac17ca71e53bd2fa'),
 ('random-42-10-35', ('a', 'b')): ('0-0 0-2 0-12 0-15 0-20 0-24 0-32 0-36 0-42 1-0 1-1 1-7 1-14 1-15 1-20 '
                                   '1-29 1-33 1-35 1-37 1-40 1-43',
                                   24,
                                   3,
                                   (0, 1),
                                   '8bb6bd28bd37bc9369f9',
                                   'fc8c2e9688c1562a79e7',
                                   '2d1f14b17fdabe7ad9b3'),
 ('random-default-seed-50-100', None): ('0-6 0-8 0-10 0-11 0-12 0-17 0-21 0-24 0-26 0-30 0-32 0-35 0-36 0-38 '
                                        '0-39 0-40 0-41 0-44 1-0 1-1 1-3 1-4 1-5 1-7 1-9 1-12 1-14 1-15 1-18 '
                                        '1-20 1-21 1-22 1-26 1-27 1-28 1-29 1-30 1-34 1-35 1-36 1-39 1-41 '
                                        '1-43 1-44',
                                        52,
                                        8,
                                        (1, 3),
                                        '719952c1bc293c79586a',
                                        '96fb4a0950ad24ef1582',
                                        'c0ec25516742c25cacee'),
 ('random-default-seed-50-100', ('a', 'b')): ('0-6 0-8 0-9 0-11 0-12 0-20 0-23 0-27 0-29 0-30 0-32 0-33 0-34 '
                                              '0-35 0-36 0-38 0-41 0-42 1-2 1-4 1-5 1-8 1-10 1-12 1-14 1-15 '
                                              '1-20 1-21 1-22 1-26 1-28 1-32 1-33 1-35 1-36 1-38 1-40 1-43',
                                              45,
                                              7,
                                              (3, 3),
                                              '90404d6a1e50ea1e2938',
                                              'd4ab703c7c6131707e09',
                                              '708ad842e09f974f7a89')}


def digest(value: object) -> str:
    return hashlib.sha256(value if isinstance(value, bytes) else json.dumps(value).encode()).hexdigest()[:20]


CASE_IDS = [f"{c}-{'names' if s else 'files'}-{'quoted' if q else 'unquoted'}"
            for q in (True, False) for c, s in PINNED]


@pytest.mark.parametrize("quoted, case, split_names", [(q, c, s) for q in (True, False) for c, s in PINNED],
                         ids=CASE_IDS)
def test_each_rearrangement_selects_the_pinned_rows(quoted: bool, case: str, split_names: tuple | None) -> None:
    rearrangement = CASES[case]
    dataset = load_dataset(files(quoted), parse_schema(SCHEMA),
                           None if rearrangement is None else json.dumps(rearrangement),
                           None if split_names is None else list(split_names))
    pinned, examples = (PINNED, EXAMPLES) if quoted else (PINNED_UNQUOTED, EXAMPLES_UNQUOTED)
    ids, total, invalid, invalid_xb, frame_sha, layout_sha, origins_sha = pinned[(case, split_names)]
    assert " ".join(dataset.frame["id"].tolist()) == ids
    assert (dataset.total_record_count, dataset.invalid_record_count) == (total, invalid)
    assert (dataset.invalid_by_attribute["x"], dataset.invalid_by_attribute["b"]) == invalid_xb
    assert dataset.invalid_by_attribute["id"] == dataset.invalid_by_attribute["colour"] == 0
    assert dataset.invalid_examples == examples
    assert digest(dataset.frame.to_csv(index=False).encode()) == frame_sha
    assert digest({k: v.tolist() for k, v in dataset.layout.items()}) == layout_sha
    assert digest(list(dataset.origins)) == origins_sha


def test_a_split_and_its_complement_are_disjoint_and_cover_every_row() -> None:
    for split, complement in (("seq-0-70", "seq-0-70-complement"), ("random-s1-0-70", "random-s1-0-70-complement")):
        kept = set(PINNED[(split, None)][0].split()) | set(PINNED[(complement, None)][0].split())
        assert kept == set(PINNED[("all", None)][0].split())
        assert not set(PINNED[(split, None)][0].split()) & set(PINNED[(complement, None)][0].split())
        assert PINNED[(split, None)][1] + PINNED[(complement, None)][1] == PINNED[("all", None)][1]
