"""Hand-written SVG charts (no plotting library): horizontal bars and lines.

Readable at a glance: labelled values, a log scale (said on the axis) when the values span more
than 30×, one colour for qcode and neutral greys for everything else, a `viewBox` so the
chart scales, and a <title>/<desc> for screen readers.
"""
import math
from xml.sax.saxutils import escape

QCODE = "#1f6feb"
QCODE_BEFORE = "#8fb5f5"
NEUTRAL = ["#6e7781", "#9aa3ab", "#4b535c", "#b8c0c7", "#81878d"]
# The same grey for the same program in every chart, and the same order of bars.
FIXED = {"curl": "#4b535c", "Codex CLI": "#6e7781", "Qwen Code": "#9aa3ab", "Gemini CLI": "#b8c0c7",
         "printf baseline": "#4b535c", "true": "#4b535c"}
ORDER = ["qcode", "qcode (before)", "curl", "printf baseline", "true", "Codex CLI", "Qwen Code", "Gemini CLI"]


def order_key(subject):
    return (ORDER.index(subject) if subject in ORDER else len(ORDER), subject)
FONT = "font-family=\"system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif\""
WIDTH = 760


def colour(subject, others):
    if subject.startswith("qcode"):
        return QCODE_BEFORE if "(before)" in subject else QCODE
    if subject in FIXED:
        return FIXED[subject]
    if subject not in others:
        others.append(subject)
    return NEUTRAL[others.index(subject) % len(NEUTRAL)]


def fmt(v):
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 100:
        return f"{v:,.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def tick(v):
    return f"{v:,g}" if v >= 1 or v == 0 else f"{v:g}"


def _scale(values, log):
    hi = max(values)
    if log:
        lo = min(v for v in values if v > 0)
        lo_e = math.floor(math.log10(lo))
        hi_e = math.ceil(math.log10(hi))
        if hi_e == lo_e:
            hi_e += 1
        ticks = [10.0 ** e for e in range(lo_e, hi_e + 1)]
        return (lambda v: (math.log10(max(v, 10.0 ** lo_e)) - lo_e) / (hi_e - lo_e)), ticks
    step = nice_step(hi / 5 if hi > 0 else 1)
    top = step * math.ceil(hi / step) if hi > 0 else 1
    ticks = [step * i for i in range(int(round(top / step)) + 1)]
    return (lambda v: v / top), ticks


def nice_step(raw):
    e = 10 ** math.floor(math.log10(raw))
    for f in (1, 2, 2.5, 5, 10):
        if raw <= f * e:
            return f * e
    return 10 * e


def wants_log(values):
    pos = [v for v in values if v > 0]
    return len(pos) >= 2 and max(pos) / min(pos) > 30


def bar_chart(title, unit, groups, better="lower", subtitle=""):
    """groups: [(group label, [(subject, value) or (subject, value, note)])] -> SVG text. One row
    per bar, in the same order of programs in every chart; a note (e.g. "12× qcode") follows the
    value label."""
    groups = [(g, sorted([(b[0], b[1], b[2] if len(b) > 2 else "") for b in bars], key=lambda b: order_key(b[0])))
              for g, bars in groups]
    values = [v for _, bars in groups for _, v, _ in bars]
    if not values:
        raise ValueError(f"chart {title!r}: no values")
    log = wants_log(values)
    pos, ticks = _scale(values, log)
    label_w, left, right = 170, 180, 200
    plot_w = WIDTH - left - right
    bar_h, gap, group_gap = 20, 6, 16
    top = 62 if subtitle else 46
    y = top
    others = []
    body = []
    for glabel, bars in groups:
        if glabel:
            body.append(f'<text x="12" y="{y + 12}" font-size="13" font-weight="600" fill="#24292f">{escape(glabel)}</text>')
            y += 20
        for subject, v, note in bars:
            w = max(1.0, pos(v) * plot_w) if v > 0 else 0
            c = colour(subject, others)
            weight = "600" if subject == "qcode" else "400"
            body.append(f'<text x="{label_w}" y="{y + 14}" font-size="12.5" text-anchor="end" '
                        f'font-weight="{weight}" fill="#24292f">{escape(subject)}</text>')
            body.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" rx="2" fill="{c}">'
                        f'<title>{escape(subject)}: {fmt(v)} {escape(unit)}</title></rect>')
            extra = f'<tspan dx="6" fill="#57606a">· {escape(note)}</tspan>' if note else ""
            body.append(f'<text x="{left + w + 6:.1f}" y="{y + 14}" font-size="12" fill="#24292f">'
                        f'{fmt(v)} {escape(unit)}{extra}</text>')
            y += bar_h + gap
        y += group_gap
    plot_bottom = y - group_gap
    axis = []
    for t in ticks:
        x = left + pos(t) * plot_w
        axis.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{plot_bottom}" stroke="#d0d7de" stroke-width="1"/>')
        axis.append(f'<text x="{x:.1f}" y="{plot_bottom + 16}" font-size="11" text-anchor="middle" fill="#57606a">{tick(t)}</text>')
    scale_note = "log scale" if log else "linear scale"
    axis_label = f"{unit} ({scale_note}; {better} is better)"
    axis.append(f'<text x="{left + plot_w / 2:.1f}" y="{plot_bottom + 34}" font-size="12" text-anchor="middle" fill="#57606a">{escape(axis_label)}</text>')
    height = plot_bottom + 46
    head = [f'<text x="12" y="24" font-size="16" font-weight="600" fill="#24292f">{escape(title)}</text>']
    if subtitle:
        head.append(f'<text x="12" y="44" font-size="12" fill="#57606a">{escape(subtitle)}</text>')
    desc = "; ".join(f"{g + ': ' if g else ''}" + ", ".join(f"{s} {fmt(v)} {unit}" for s, v, _ in bars)
                     for g, bars in groups)
    return _doc(title, desc, height, head + axis + body)


def line_chart(title, unit, series, x_label, better="lower", subtitle=""):
    """series: [(subject, [(x, y)])] -> SVG text."""
    pts = [p for _, ps in series for p in ps]
    if not pts:
        raise ValueError(f"chart {title!r}: no points")
    left, right, top = 70, 210, (62 if subtitle else 46)
    plot_w, plot_h = WIDTH - left - right, 260
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    x_lo, x_hi = min(0, min(xs)), max(xs) or 1
    ystep = nice_step(max(ys) / 5 if max(ys) > 0 else 1)
    y_top = ystep * math.ceil(max(ys) / ystep) if max(ys) > 0 else 1
    xstep = nice_step((x_hi - x_lo) / 8 if x_hi > x_lo else 1)

    def px(x):
        return left + (x - x_lo) / ((x_hi - x_lo) or 1) * plot_w

    def py(v):
        return top + plot_h - v / y_top * plot_h

    out = []
    k = 0
    while ystep * k <= y_top + 1e-9:
        v = ystep * k
        out.append(f'<line x1="{left}" y1="{py(v):.1f}" x2="{left + plot_w}" y2="{py(v):.1f}" stroke="#d0d7de"/>')
        out.append(f'<text x="{left - 6}" y="{py(v) + 4:.1f}" font-size="11" text-anchor="end" fill="#57606a">{tick(v)}</text>')
        k += 1
    x = xstep * math.ceil(x_lo / xstep)
    while x <= x_hi + 1e-9:
        out.append(f'<text x="{px(x):.1f}" y="{top + plot_h + 16}" font-size="11" text-anchor="middle" fill="#57606a">{tick(x)}</text>')
        x += xstep
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h + 34}" font-size="12" text-anchor="middle" fill="#57606a">{escape(x_label)}</text>')
    out.append(f'<text x="16" y="{top + plot_h / 2:.1f}" font-size="12" text-anchor="middle" fill="#57606a" '
               f'transform="rotate(-90 16 {top + plot_h / 2:.1f})">{escape(unit)} ({better} is better)</text>')
    others = []
    # End labels, pushed apart so that they never overlap.
    ends = sorted((py(max(ps)[1]), i) for i, (_, ps) in enumerate(series))
    label_y = {}
    last = -1e9
    for y0, i in ends:
        last = max(y0 + 4, last + 15)
        label_y[i] = last
    for i, (subject, ps) in enumerate(series):
        ps = sorted(ps)
        c = colour(subject, others)
        d = " ".join(f"{'M' if j == 0 else 'L'}{px(a):.1f},{py(b):.1f}" for j, (a, b) in enumerate(ps))
        out.append(f'<path d="{d}" fill="none" stroke="{c}" stroke-width="2.5"/>')
        for a, b in ps:
            out.append(f'<circle cx="{px(a):.1f}" cy="{py(b):.1f}" r="3" fill="{c}"><title>{escape(subject)} at {fmt(a)}: {fmt(b)} {escape(unit)}</title></circle>')
        la, lb = ps[-1]
        out.append(f'<text x="{px(la) + 8:.1f}" y="{label_y[i]:.1f}" font-size="12" fill="{c}" font-weight="600">'
                   f'{escape(subject)} {fmt(lb)} {escape(unit)}</text>')
    head = [f'<text x="12" y="24" font-size="16" font-weight="600" fill="#24292f">{escape(title)}</text>']
    if subtitle:
        head.append(f'<text x="12" y="44" font-size="12" fill="#57606a">{escape(subtitle)}</text>')
    desc = "; ".join(f"{s}: " + ", ".join(f"{fmt(a)} → {fmt(b)} {unit}" for a, b in sorted(ps)) for s, ps in series)
    return _doc(title, desc, top + plot_h + 48, head + out)


def _doc(title, desc, height, parts):
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" '
            f'width="{WIDTH}" height="{height:.0f}" role="img" {FONT}>\n'
            f'<title>{escape(title)}</title>\n<desc>{escape(desc)}</desc>\n'
            f'<rect width="100%" height="100%" fill="#ffffff"/>\n' + "\n".join(parts) + "\n</svg>\n")
