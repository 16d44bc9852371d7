#!/usr/bin/env python3
"""Parses a Prometheus text exposition with Debian's python3-prometheus-client.

Usage: prometheus_parse.py FILE

Prints one JSON object: {"families": [{"name", "type", "help", "samples":
[{"name", "labels", "value"}]}]}, values as strings ("+Inf", "NaN" kept
readable). Exits 1 with the parser's error on stderr if the text does not
parse, which is what metrics_test.cc checks.
"""
import json
import math
import sys

from prometheus_client.parser import text_string_to_metric_families


def value_text(v):
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(float(v))


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    try:
        families = []
        for fam in text_string_to_metric_families(text):
            families.append({
                "name": fam.name,
                "type": fam.type,
                "help": fam.documentation,
                "samples": [{
                    "name": s.name,
                    "labels": s.labels,
                    "value": value_text(s.value),
                } for s in fam.samples],
            })
    except Exception as e:  # the parser raises ValueError and others
        print("parse error: %s" % e, file=sys.stderr)
        return 1
    json.dump({"families": families}, sys.stdout, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
