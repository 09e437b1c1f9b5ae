"""Every comparative word in the notebooks' prose is checked or reviewed.

The numbers test (test_notebooks) catches a number in prose that no cell computes; words such as "faster", "the
best", "left of", "helps" or "dark is good" make claims it cannot see. Here every markdown sentence with such a word
must be either

- **marked**: the cell holds ``<!-- claim "PHRASE": CHECK ARG ... -->``, where PHRASE is part of the sentence and
  CHECK one of :data:`CHECKS`, run against the shipped results (the benchmark runs' FPS, the studies' verdicts, the
  weights' logs), so the sentence fails the test as soon as a re-made result contradicts it; or
- **reviewed**: listed in :data:`REVIEWED` with why it needs no figure (a definition, a question, an exercise, a
  description of what a cell shows). An edited sentence drops out of the list and must be looked at again.
"""
import csv
import gzip
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "deeptrack_lite" / "course" / "results"
COMPARATIVE = re.compile(r"\b(faster|slower|fastest|slowest|better|worse|best|worst|outperforms?|beats?|left of|"
                         r"right of|times (?:faster|slower|more|less)|twice as|more accurate|less accurate|helps|hurts|"
                         r"dark is|bright is)\b", re.I)
CLAIM = re.compile(r'<!--\s*claim\s+"([^"]+)"\s*:\s*(.*?)\s*-->', re.S)


# ---------------------------------------------------------------------------------------------- the checks
def _fps() -> dict:
    """Shipped full-mode FPS per tracker: all frames over the time of init and updates, all 14 sequences."""
    runs = json.load(gzip.open(RESULTS / "benchmark-synthetic-100f.json.gz"))["runs"]
    return {t: sum(len(s["times"]) for s in seqs.values()) / sum(sum(s["times"]) for s in seqs.values())
            for t, seqs in runs.items()}


def faster(a, *others):
    fps = _fps()
    return all(fps[a] > fps[b] for b in others), {t: round(fps[t], 1) for t in (a, *others)}


def slowest(a, *others):
    fps = _fps()
    return all(fps[a] < fps[b] for b in others), {t: round(fps[t], 1) for t in (a, *others)}


def fps_ratio(fast, slow, at_least):
    fps = _fps()
    return fps[fast] / fps[slow] >= float(at_least), round(fps[fast] / fps[slow], 1)


def slower_than_most(group, others):
    """Every tracker of ``group`` (comma-separated) is slower than most trackers of ``others``."""
    fps, others = _fps(), others.split(",")
    counts = {t: sum(fps[o] > fps[t] for o in others) for t in group.split(",")}
    return all(2 * c > len(others) for c in counts.values()), counts


def study(name, variant, verdict):
    record = json.loads((RESULTS / f"{name}.json").read_text())
    have = record["comparisons"][variant]["verdict"]
    return have == verdict, have


def sdae_stages_worsen():
    """The SDAE's validation reconstruction error at the end of each greedy stage grows with depth, and
    fine-tuning recovers part of it (the shipped loss log)."""
    weights = ROOT / "deeptrack_lite" / "weights"
    log = list(csv.DictReader(open(weights / json.loads((weights / "sdae.json").read_text())["loss_log"])))
    last = {}
    for row in log:
        last[row["stage"]] = float(row["val_mse"])
    greedy = [v for k, v in last.items() if k.startswith("layer")]
    return greedy == sorted(greedy) and last["finetune"] < greedy[-1], last


def unrolls_double():
    from deeptrack_lite.training.recurrent import RecurrentTrainConfig

    u = RecurrentTrainConfig().unrolls
    return all(b == 2 * a for a, b in zip(u, u[1:])), u


CHECKS = {f.__name__: f for f in (faster, slowest, fps_ratio, slower_than_most, study, sdae_stages_worsen,
                                  unrolls_double)}

# ---------------------------------------------------------------------------------------------- reviewed sentences
#: (notebook, the sentence's first 50 characters) -> why it needs no figure
REVIEWED = {
    ("00", "**Exercise 3 (open).** Build a synthetic sequence "): "an exercise",
    ("01", "Two ways to score a candidate Every tracker in thi"): "a definition (the best candidate: the smallest "
                                                                 "error)",
    ("01", "For the generative trackers the map is an **error*"): "the colour maps the next cell sets: magma_r for "
                                                                 "errors, viridis for probabilities, both bright "
                                                                 "where good",
    ("01", "**Exercise 3 (open).** Build a synthetic sequence "): "an exercise",
    ("02", "### Your turn: number of particles and motion nois"): "how the two settings work, which the widget lets "
                                                                 "the student try",
    ("02", "Below: the ρ landscape around the target in a late"): "the colour map of the cell (viridis: high ρ is "
                                                                 "bright)",
    ("02", "The next cell starts mean shift a few pixels off t"): "what the cell shows",
    ("02", "CamShift: adapting size and orientation Plain mean"): "what the meanshift tracker does",
    ("02", "It does not promise a *higher final* ρ: compare th"): "a caution about the figure above",
    ("03", "If the **best** confidence among all particles fal"): "DLT's update rule",
    ("03", "We measure both on the same positive and negative "): "the ROC AUC's definition",
    ("03", "On `CatClutter` the detailed cat reconstructs *wor"): "asserted by the cell above it (0bb13807): the "
                                                                 "generative score's ROC AUC on CatClutter is below 0.5",
    ("03", "The trouble is that the sign is not known in advan"): "what an AUC above 0.5 means; the flip itself is "
                                                                 "asserted by the cell above",
    ("03", "Whether that is a better starting point for tracki"): "points to the measurement",
    ("03", "So the best box grows over the cells with $P > 0.5"): "SO-DLT's box readout",
    ("03", "Each comparison below gets a verdict from a **pair"): "the paired bootstrap's definition",
    ("03", "How to read the verdicts: the interval is over seq"): "how to read a verdict",
    ("04", "Both taps have 512 maps, and the maps are twice as"): "the taps' strides, stated in the sentence",
    ("04", "*Low layers tell instances apart*: the B column an"): "what the printed figures measure",
    ("04", "Whether it beats both on average is a question for"): "points to the shipped table",
    ("05", "A line through a ring keeps at best one side of it"): "geometry (course.representation's docstring)",
    ("05", "The printed means say how general that is over uns"): "how to read the printed means",
    ("05", "the **target score** is the mean of the 5 best sco"): "MDNet's target score",
    ("05", "Bounding-box regression Candidates are drawn at ra"): "why MDNet regresses boxes",
    ("05", "So the verdict comes from the **paired bootstrap**"): "the paired bootstrap's definition",
    ("05", "**Exercise 3: the target score.** `target_score(sc"): "an exercise",
    ("06", "Which attribute hurts which tracker most?"): "a question",
    ("06", "Pick a sequence: the IoU of every tracker over tim"): "what the widget shows",
    ("06", "The synthetic benchmark remains the place to compa"): "about where claims hold",
    ("06", "The A-R plot puts accuracy against reliability (to"): "how to read the A-R plot and the EAO curves",
    ("06", "**Predict first:** which kind of score should tell"): "a question",
    ("06", "Where it does not, either the score carries little"): "how to read the table",
    ("06", "*Best F here* is the maximum over thresholds on th"): "a definition",
    ("07", "Sizes other than the current one pay a small penal"): "SiamFC's scale rule",
    ("07", "The second decides, and under it, for each variant"): "what the cell prints",
    ("07", "**Read the verdicts.** If three layers beat each s"): "how to read the verdicts",
    ("07", "The dashed line joins the **Pareto front**: the tr"): "the Pareto front's definition",
    ("07", "**Read the map.** Start from the front: for any ti"): "how to read the map (the x axis is FPS, growing "
                                                                 "to the right)",
}


# ---------------------------------------------------------------------------------------------- the scanner
def sentences(markdown: str) -> list[str]:
    """The prose sentences of a markdown cell (code blocks and claim marks left out), whitespace normalised."""
    text = CLAIM.sub(" ", re.sub(r"```.*?```", " ", markdown, flags=re.S))
    return [" ".join(s.split()) for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


def unchecked(notebook: str, markdown: str) -> list[str]:
    """The sentences of one markdown cell with a comparative word that no claim in the cell covers and that are
    not reviewed."""
    phrases = [" ".join(p.split()) for p, _ in CLAIM.findall(markdown)]
    return [s for s in sentences(markdown) if COMPARATIVE.search(s) and not any(p in s for p in phrases)
            and (notebook, s[:50]) not in REVIEWED]


def notebook_cells():
    for path in sorted((ROOT / "notebooks").glob("0*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "markdown":
                yield path.name[:2], cell.get("id"), "".join(cell["source"])


def test_every_comparative_sentence_is_checked_or_reviewed():
    bad = [f"{nb} {cid}: {s}" for nb, cid, md in notebook_cells() for s in unchecked(nb, md)]
    assert not bad, "mark these with a claim or review them:\n" + "\n".join(bad)


def test_every_reviewed_sentence_still_exists():
    present = {(nb, s[:50]) for nb, _, md in notebook_cells() for s in sentences(md) if COMPARATIVE.search(s)}
    assert not set(REVIEWED) - present, f"stale review entries: {sorted(set(REVIEWED) - present)}"


def test_every_marked_claim_holds_against_the_shipped_results():
    claims = [(nb, cid, phrase, spec) for nb, cid, md in notebook_cells() for phrase, spec in CLAIM.findall(md)]
    assert len(claims) >= 8
    for nb, cid, phrase, spec in claims:
        md = next(m for n, c, m in notebook_cells() if (n, c) == (nb, cid))
        assert " ".join(phrase.split()) in " ".join(CLAIM.sub(" ", md).split()), f"{nb} {cid}: {phrase!r} is not in the cell"
        name, *args = re.findall(r'"[^"]*"|\S+', spec)
        ok, figures = CHECKS[name](*[a.strip('"') for a in args])
        assert ok, f"{nb} {cid}: {phrase!r} ({spec}) does not hold: {figures}"


@pytest.mark.parametrize("markdown", [
    "For the generative trackers the map is an **error** (dark is good); for the other a probability.",
    "For any time budget, the best tracker you can afford is the front's point to the left of it.",
    "KCF is three times faster than CSRT here.",
])
def test_a_reintroduced_false_sentence_is_caught(markdown):
    assert unchecked("07", markdown)


def test_a_claim_whose_figures_disagree_fails():
    assert not faster("mdnet", "kcf")[0] and faster("kcf", "mdnet")[0]
    assert not study("hcf", "fine layer only (stride 4)", "helps")[0]
