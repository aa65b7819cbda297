#!/usr/bin/env python3
"""Checks a rooflm roofline SVG with a real XML parser (xml.etree).

Usage: check_svg.py FILE.svg [--expect-series N] [--expect-label TEXT ...] [--max-bytes N]

Exit status 0 when the chart is well-formed and consistent, 1 (with the reasons on stderr)
otherwise. Checks:
  - the file parses as XML and the root is an <svg> element with positive width/height;
  - there is exactly one <rect id="plot-area"> and it lies inside the canvas;
  - every <path class="point"> has a translate(X Y) inside the plot area and a series name;
  - every series drawn has exactly one legend entry, and every legend entry has points;
  - there is at least one bandwidth roof and one compute roof line, and tick labels exist;
  - no text node contains "nan" or "inf" as a word;
  - optional: the number of series and some expected texts; the file size limit.
"""
import math
import os
import re
import sys
import xml.etree.ElementTree as ET

NS = "{http://www.w3.org/2000/svg}"
TRANSLATE = re.compile(r"translate\(\s*([-+0-9.eE]+)[\s,]+([-+0-9.eE]+)\s*\)")


def fail(errors, msg):
    errors.append(msg)


def num(v, what, errors):
    try:
        x = float(v)
    except (TypeError, ValueError):
        fail(errors, f"{what}: not a number: {v!r}")
        return None
    if not math.isfinite(x):
        fail(errors, f"{what}: not finite: {v!r}")
        return None
    return x


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    path = argv[1]
    expect_series = None
    expect_labels = []
    max_bytes = None
    i = 2
    while i < len(argv):
        if argv[i] == "--expect-series":
            expect_series = int(argv[i + 1]); i += 2
        elif argv[i] == "--expect-label":
            expect_labels.append(argv[i + 1]); i += 2
        elif argv[i] == "--max-bytes":
            max_bytes = int(argv[i + 1]); i += 2
        else:
            print(f"unknown argument {argv[i]!r}", file=sys.stderr)
            return 2

    errors = []
    try:
        tree = ET.parse(path)
    except (ET.ParseError, OSError) as e:
        print(f"{path}: not well-formed XML: {e}", file=sys.stderr)
        return 1
    root = tree.getroot()
    if root.tag != NS + "svg":
        fail(errors, f"root element is {root.tag}, expected svg")
    width = num(root.get("width"), "svg width", errors)
    height = num(root.get("height"), "svg height", errors)
    if max_bytes is not None and os.path.getsize(path) > max_bytes:
        fail(errors, f"file is {os.path.getsize(path)} bytes, limit {max_bytes}")

    areas = [e for e in root.iter(NS + "rect") if e.get("id") == "plot-area"]
    if len(areas) != 1:
        fail(errors, f"expected exactly one rect#plot-area, found {len(areas)}")
        area = None
    else:
        a = areas[0]
        ax, ay = num(a.get("x"), "plot-area x", errors), num(a.get("y"), "plot-area y", errors)
        aw, ah = num(a.get("width"), "plot-area width", errors), num(a.get("height"), "plot-area height", errors)
        area = (ax, ay, aw, ah) if None not in (ax, ay, aw, ah) else None
        if area and width and height:
            if ax < 0 or ay < 0 or ax + aw > width + 0.01 or ay + ah > height + 0.01 or aw <= 0 or ah <= 0:
                fail(errors, f"plot area {area} is not inside the {width}x{height} canvas")

    series_points = {}
    n_points = 0
    for e in root.iter(NS + "path"):
        if "point" not in (e.get("class") or "").split():
            continue
        n_points += 1
        s = e.get("data-series")
        if not s:
            fail(errors, "a point has no data-series")
            continue
        series_points[s] = series_points.get(s, 0) + 1
        m = TRANSLATE.search(e.get("transform") or "")
        if not m:
            fail(errors, f"point of series {s!r} has no translate(X Y)")
            continue
        x, y = num(m.group(1), "point x", errors), num(m.group(2), "point y", errors)
        if area and x is not None and y is not None:
            ax, ay, aw, ah = area
            if not (ax - 0.01 <= x <= ax + aw + 0.01 and ay - 0.01 <= y <= ay + ah + 0.01):
                fail(errors, f"point of series {s!r} at ({x}, {y}) is outside the plot area {area}")
        if not (e.get("d") or "").strip():
            fail(errors, f"point of series {s!r} has an empty marker path")
    if n_points == 0:
        fail(errors, "no points drawn")

    legend = {}
    for g in root.iter(NS + "g"):
        if "legend-entry" in (g.get("class") or "").split():
            s = g.get("data-series")
            legend[s] = legend.get(s, 0) + 1
    for s in series_points:
        if legend.get(s, 0) != 1:
            fail(errors, f"series {s!r} has {legend.get(s, 0)} legend entries, expected 1")
    for s in legend:
        if s not in series_points:
            fail(errors, f"legend entry {s!r} has no points")
    if expect_series is not None and len(series_points) != expect_series:
        fail(errors, f"expected {expect_series} series, found {len(series_points)}: {sorted(series_points)}")

    classes = [(e.get("class") or "") for e in root.iter()]
    if not any("roof-bandwidth" in c for c in classes):
        fail(errors, "no bandwidth roof line")
    if not any("roof-compute" in c for c in classes):
        fail(errors, "no compute roof line")

    texts = ["".join(t.itertext()) for t in root.iter(NS + "text")]
    if not any(re.fullmatch(r"[0-9.]+[kMGTP]?", t.strip()) for t in texts):
        fail(errors, "no tick labels")
    for t in texts:
        if re.search(r"\b(nan|inf)\b", t, re.IGNORECASE):
            fail(errors, f"text contains nan/inf: {t!r}")
    all_text = "\n".join(texts)
    for want in expect_labels:
        if want not in all_text:
            fail(errors, f"expected text {want!r} not found")

    if errors:
        for e in errors:
            print(f"{path}: {e}", file=sys.stderr)
        return 1
    print(f"{path}: ok ({n_points} points, {len(series_points)} series)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
