"""Long fuzzing run: the properties of tests/test_fuzz.py with fresh random seeds until the time is up.

    python bench/fuzz.py [--seconds 300]

CI runs the same properties with a fixed seed and 150 examples each (a few seconds); this explores new
examples every pass. A failure prints the shrunk example and a @reproduce_failure blob, and exits 1:
turn it into a regular test beside the fix.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback

from common import REPO

os.environ["MONITOR_FUZZ"] = "long"  # read when the test module is imported
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "src"))
from tests import test_fuzz

PROPERTIES = [
    test_fuzz.test_parse_never_raises_and_keeps_its_promises,
    test_fuzz.test_parse_of_random_bytes_never_raises,
    test_fuzz.test_matching_parsed_items_points_at_the_stored_text,
    test_fuzz.test_matcher_never_raises_and_spans_quote_the_text,
    test_fuzz.test_appending_text_never_lowers_a_shipped_themes_score,
    test_fuzz.test_appending_text_never_lowers_a_generated_themes_score,
]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=300)
    args = parser.parse_args()
    start = time.monotonic()
    passes = 0
    # Whole passes: each property runs its profile's examples, then the next, so all get a share.
    while passes == 0 or time.monotonic() - start < args.seconds:
        for prop in PROPERTIES:
            try:
                prop()
            except Exception as failure:
                traceback.print_exc()
                print(
                    f"FAILED {prop.__name__} after {test_fuzz.EXAMPLES['count']:,} examples: "
                    f"{type(failure).__name__}: {failure}"
                )
                return 1
        passes += 1
    elapsed = time.monotonic() - start
    print(
        f"fuzz: {test_fuzz.EXAMPLES['count']:,} examples in {elapsed:.0f} s ({passes} passes of "
        f"{len(PROPERTIES)} properties, max_examples {test_fuzz.FUZZ.max_examples} each): no failure"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
