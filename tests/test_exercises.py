"""The exercise checks accept right answers and explain the usual wrong ones, without raising."""
import json
from pathlib import Path

import numpy as np
import pytest

from deeptrack_lite.course import exercises as ex


def test_box_center_check():
    assert ex.check_box_center(lambda b: (b[0] + (b[2] - 1) / 2, b[1] + (b[3] - 1) / 2)).passed
    r = ex.check_box_center(lambda b: (b[0] + b[2] / 2, b[1] + b[3] / 2))
    assert not r and "(w - 1)/2" in str(r)
    assert "bottom-right" in str(ex.check_box_center(lambda b: (b[0] + b[2], b[1] + b[3])))

    def unfinished(b):
        raise NotImplementedError

    assert "not implemented" in str(ex.check_box_center(unfinished))
    assert "raised ZeroDivisionError" in str(ex.check_box_center(lambda b: 1 / 0))
    assert "None" in str(ex.check_box_center(lambda b: None))


def test_precision_check():
    assert ex.check_precision_at(lambda e, t: np.mean(e <= t)).passed
    assert "<=" in str(ex.check_precision_at(lambda e, t: np.mean(e < t)))
    assert "count" in str(ex.check_precision_at(lambda e, t: np.sum(e <= t)))
    assert "lost frame" in str(ex.check_precision_at(lambda e, t: np.mean(e[np.isfinite(e)] <= t)))
    assert "<b>" in ex.check_precision_at(lambda e, t: 0.0)._repr_html_()


def test_success_curve_check():
    assert ex.check_success_curve(lambda o, t: (o[None] > t[:, None]).mean(1)).passed
    assert "strictly" in str(ex.check_success_curve(lambda o, t: (o[None] >= t[:, None]).mean(1)))
    assert "counts" in str(ex.check_success_curve(lambda o, t: (o[None] > t[:, None]).sum(1)))


def test_dataset_auc_check():
    t = np.linspace(0, 1, 21)
    right = lambda seqs: np.mean(np.mean([(o[None] > t[:, None]).mean(1) for o in seqs], axis=0))
    pooled = lambda seqs: np.mean((np.concatenate(seqs)[None] > t[:, None]).mean(1))
    assert ex.check_dataset_auc(right).passed
    assert "pooled" in str(ex.check_dataset_auc(pooled))


def test_ssd_map_check():
    def right(win, t):
        h, w = t.shape
        return np.array([[np.mean((win[i:i + h, j:j + w] - t) ** 2) for j in range(win.shape[1] - w + 1)]
                         for i in range(win.shape[0] - h + 1)])
    assert ex.check_ssd_map(right).passed
    assert "summed" in str(ex.check_ssd_map(lambda w, t: right(w, t) * t.size))
    assert "shape" in str(ex.check_ssd_map(lambda w, t: np.zeros((2, 2))))


def test_sample_labels_check():
    right = lambda o: np.where(o >= 0.7, 1, np.where(o <= 0.3, 0, -1))
    assert ex.check_sample_labels(right).passed
    assert "inclusive" in str(ex.check_sample_labels(lambda o: np.where(o > 0.7, 1, np.where(o < 0.3, 0, -1))))
    assert "-1" in str(ex.check_sample_labels(lambda o: (o >= 0.5).astype(int)))


def test_systematic_resample_check():
    right = lambda w, u: np.searchsorted(np.cumsum(w), u + np.arange(len(w)) / len(w))
    assert ex.check_systematic_resample(right).passed
    assert "offset" in str(ex.check_systematic_resample(lambda w, u: np.searchsorted(np.cumsum(w), np.arange(len(w)) / len(w))))
    assert "off by one" in str(ex.check_systematic_resample(
        lambda w, u: np.searchsorted(np.cumsum(w), u + np.arange(len(w)) / len(w), side="right")))
    assert "exactly" in str(ex.check_systematic_resample(lambda w, u: [1, 4]))


def test_bhattacharyya_check():
    assert ex.check_bhattacharyya(lambda p, q: np.sum(np.sqrt(p * q))).passed
    assert "square root" in str(ex.check_bhattacharyya(lambda p, q: np.sum(p * q)))
    assert "distance" in str(ex.check_bhattacharyya(lambda p, q: np.sqrt(1 - np.sum(np.sqrt(p * q)))))


def test_masking_noise_check():
    from deeptrack_lite.course.exercises import check_masking_noise

    assert check_masking_noise(lambda x, level, rng: x * (rng.random(x.shape) >= level))
    result = check_masking_noise(lambda x, level, rng: x * (rng.random(x.shape) < level))
    assert not result and "not to keep" in str(result)

    def in_place(x, level, rng):
        x[rng.random(x.shape) < level] = 0
        return x

    assert "in place" in str(check_masking_noise(in_place))

    def unfinished(x, level, rng):
        raise NotImplementedError

    assert "not implemented" in str(check_masking_noise(unfinished))


def test_kl_sparsity_check():
    from deeptrack_lite.course.exercises import check_kl_sparsity

    def kl(h, rho):
        r = h.mean(axis=0)
        return (rho * np.log(rho / r) + (1 - rho) * np.log((1 - rho) / (1 - r))).mean()

    assert check_kl_sparsity(kl)
    assert "sum over units" in str(check_kl_sparsity(lambda h, rho: kl(h, rho) * h.shape[1]))
    assert "two terms" in str(check_kl_sparsity(lambda h, rho: (rho * np.log(rho / h.mean(axis=0))).mean()))


def test_update_decision_check():
    from deeptrack_lite.course.exercises import check_update_decision

    assert check_update_decision(lambda c, tau: c.max() < tau)
    assert "highest" in str(check_update_decision(lambda c, tau: c.mean() < tau))
    assert "use <" in str(check_update_decision(lambda c, tau: c.max() <= tau))


def test_cd1_step_check_names_the_usual_mistakes():
    from instructor.solutions import cd1_step

    assert ex.check_cd1_step(cd1_step)
    wrong_way = lambda W, b, c, v0, h0, lr: cd1_step(W, b, c, v0, h0, -lr)
    assert "wrong way" in str(ex.check_cd1_step(wrong_way))

    def with_sample(W, b, c, v0, h0, lr):
        s = lambda x: 1 / (1 + np.exp(-x))
        v1 = s(h0 @ W + b)
        p1 = s(v1 @ W.T + c)
        return W + lr * (h0.T @ v0 - p1.T @ v1) / len(v0), b + lr * (v0 - v1).mean(0), c + lr * (h0 - p1).mean(0)

    assert "probabilities" in str(ex.check_cd1_step(with_sample))
    summed = lambda W, b, c, v0, h0, lr: cd1_step(W, b, c, v0, h0, lr * len(v0))
    assert "divide the sums by N" in str(ex.check_cd1_step(summed))
    assert "not implemented" in str(ex.check_cd1_step(lambda *a: (_ for _ in ()).throw(NotImplementedError())))


def test_box_from_objectness_check_names_the_usual_mistakes():
    from instructor.solutions import box_from_objectness

    assert ex.check_box_from_objectness(box_from_objectness)

    def best_by(score):
        def fn(prob, sizes):
            cands = [(score(prob[y:y + h, x:x + w]), (x, y, w, h)) for w, h in sizes
                     for y in range(prob.shape[0] - h + 1) for x in range(prob.shape[1] - w + 1)]
            return max(cands)[1]
        return fn

    assert "biggest box" in str(ex.check_box_from_objectness(best_by(np.sum)))
    assert "smallest box" in str(ex.check_box_from_objectness(best_by(np.mean)))
    swapped = lambda prob, sizes: box_from_objectness(prob.T, [(h, w) for w, h in sizes])
    assert "swapped" in str(ex.check_box_from_objectness(swapped))
    # the package's own rule agrees with the solution
    import torch
    from deeptrack_lite.models.sodlt import box_from_map
    prob = np.random.default_rng(0).random((12, 12))
    box, _, _ = box_from_map(torch.tensor(prob), (5, 4), scale_steps=(1.0,))
    assert tuple(box.round().int().tolist()) == box_from_objectness(prob, [(5, 4)])


def test_vot_exercises_name_the_usual_mistakes():
    from instructor.solutions import expected_average_overlap, vot_resets
    from deeptrack_lite.evaluation.vot import eao_curve

    assert ex.check_vot_resets(vot_resets)
    assert "skipped" in str(ex.check_vot_resets(lambda o, skip: vot_resets(o, 1)))  # restarts at once: fails at 4
    assert ex.check_expected_average_overlap(expected_average_overlap)
    segs = [(np.array([0.0, 1.0, 0.5]), True), (np.array([0.0, 0.8, 0.6, 0.4, 0.2]), False)]
    # the package's curve (its segments say whether they reached the end, the opposite flag) agrees
    curve = eao_curve([(o, not failed) for o, failed in segs], max_length=5)
    assert expected_average_overlap(segs, 4) == pytest.approx(curve[4])
    with_start = lambda s, n: float(np.mean([np.r_[o, np.zeros(n + 1)][:n + 1].mean() for o, f in s if f or len(o) > n]))
    assert "start frame" in str(ex.check_expected_average_overlap(with_start))


def test_tracking_f_score_check_names_the_usual_mistakes():
    from instructor.solutions import tracking_f_score
    from deeptrack_lite.evaluation.longterm import tracking_precision_recall

    assert ex.check_tracking_f_score(tracking_f_score)
    o, s, v = np.array([0.5, 0.0, 0.3]), np.array([0.9, 0.7, 0.2]), np.array([1, 0, 1])
    pr, re = tracking_precision_recall(o, s, v, [0.6])  # the package's measure agrees
    assert tracking_f_score(o, s, v, 0.6)[:2] == pytest.approx((pr[0], re[0]))
    strict = lambda o, s, v, t: tracking_f_score(o, np.where(np.asarray(s) == t, -1, s), v, t)
    assert ">=" in str(ex.check_tracking_f_score(strict))
    all_frames = lambda o, s, v, t: (float(np.mean(o)), *tracking_f_score(o, s, v, t)[1:])
    assert "called present only" in str(ex.check_tracking_f_score(all_frames))
    per_called = lambda o, s, v, t: (tracking_f_score(o, s, v, t)[0],) * 3
    assert "visible" in str(ex.check_tracking_f_score(per_called))
    mean_f = lambda o, s, v, t: (*tracking_f_score(o, s, v, t)[:2], sum(tracking_f_score(o, s, v, t)[:2]) / 2)
    assert "harmonic" in str(ex.check_tracking_f_score(mean_f))


def test_taylor_significance_check():
    assert ex.check_taylor_significance(lambda f, g, h: (-g * f + 0.5 * h * f ** 2).sum(axis=(1, 2)))
    assert "first-order term only" in str(ex.check_taylor_significance(lambda f, g, h: (-g * f).sum(axis=(1, 2))))
    assert "sign" in str(ex.check_taylor_significance(lambda f, g, h: (g * f + 0.5 * h * f ** 2).sum(axis=(1, 2))))
    assert "1/2" in str(ex.check_taylor_significance(lambda f, g, h: (-g * f + h * f ** 2).sum(axis=(1, 2))))
    assert "one value per map" in str(ex.check_taylor_significance(lambda f, g, h: (-g * f + 0.5 * h * f ** 2).sum()))


def test_distractor_share_check():
    import torch

    from deeptrack_lite.trackers.fcnt import distractor_score

    assert ex.check_distractor_share(lambda m, p, wh: distractor_score(torch.as_tensor(m), p, wh))

    def inside_share(m, p, wh):
        return 1 - distractor_score(torch.as_tensor(m), p, wh)

    def with_negatives(m, p, wh):
        yy, xx = np.mgrid[0:m.shape[0], 0:m.shape[1]]
        inside = (np.abs(xx - p[0]) <= wh[0] / 2) & (np.abs(yy - p[1]) <= wh[1] / 2)
        return m[~inside].sum() / m.sum()

    assert "*inside*" in str(ex.check_distractor_share(inside_share))
    assert "positive part" in str(ex.check_distractor_share(with_negatives))


def test_hard_negatives_check():
    import torch

    from deeptrack_lite.online import hard_negative_mining

    assert ex.check_hard_negatives(lambda s, n: hard_negative_mining(lambda x: x, torch.as_tensor(s), n).numpy())
    assert ex.check_hard_negatives(lambda s, n: np.argsort(s)[::-1][:n])
    assert "-0 is 0" in str(ex.check_hard_negatives(lambda s, n: np.argsort(s)[-n:]))  # right unless n is 0
    assert "easiest" in str(ex.check_hard_negatives(lambda s, n: np.argsort(s)[:n]))
    assert "indices" in str(ex.check_hard_negatives(lambda s, n: np.sort(s)[-n:]))

    def todo(s, n):
        raise NotImplementedError

    assert "not implemented" in str(ex.check_hard_negatives(todo))


def test_box_deltas_check():
    from deeptrack_lite.models.box_regression import box_deltas

    assert ex.check_box_deltas(lambda b, t: box_deltas(b, t)[0])

    def corners(b, t):
        return [(t[0] - b[0]) / b[2], (t[1] - b[1]) / b[3], np.log(t[2] / b[2]), np.log(t[3] / b[3])]

    def no_log(b, t):
        d = box_deltas(b, t)[0]
        return [d[0], d[1], t[2] / b[2], t[3] / b[3]]

    assert "centres" in str(ex.check_box_deltas(corners))
    assert "log" in str(ex.check_box_deltas(no_log))
    assert "four numbers" in str(ex.check_box_deltas(lambda b, t: [1.0, 2.0]))


def test_target_score_check():
    def right(s, b, k):
        top = np.argsort(s)[-k:]
        return s[top].mean(), b[top].mean(axis=0)

    def best_only(s, b, k):
        i = int(np.argmax(s))
        return s[i], b[i]

    assert ex.check_target_score(right)
    msg = str(ex.check_target_score(best_only))
    assert "average the top k scores" in msg and "average the boxes" in msg


def test_every_reference_solution_passes_its_check():
    from instructor import solutions

    results = solutions.check_all()
    failed = {name: str(r) for name, r in results.items() if not r.passed}
    assert not failed, failed


def test_every_notebook_exercise_has_a_solution_of_the_same_name():
    import json
    import re
    from pathlib import Path

    from instructor import solutions

    found = {}
    for path in sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            for check, fn in re.findall(r"dtl\.exercises\.(check_\w+)\((\w+)\)", "".join(cell["source"])):
                found[fn] = (path.stem, check)
    assert found, "no exercise cells found"
    listed = {name: (nb, check.__name__) for name, (nb, check) in ex.EXERCISES.items()}
    assert found == listed
    # and the solution's signature is the one the notebook asks for
    for path in sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb")):
        text = path.read_text()
        for name in found:
            m = re.search(rf"def {name}\(([^)]*)\)", text)
            if m and found[name][0] == path.stem:
                import inspect

                want = [a.strip() for a in m.group(1).replace("\\n", "").split(",")]
                assert list(inspect.signature(getattr(solutions, name)).parameters) == want, name


def test_show_prints_a_solution_and_refuses_unknown_names(capsys):
    import pytest

    from instructor import solutions
    from deeptrack_lite.errors import DeepTrackError

    solutions.show("box_deltas")
    assert "def box_deltas(box, target)" in capsys.readouterr().out
    with pytest.raises(DeepTrackError, match="target_score"):
        solutions.show("nonexistent")


def test_correlation_exercises_name_the_usual_mistakes():
    import torch
    from scipy import signal

    from instructor.solutions import correlate, filter_response
    from deeptrack_lite.models.correlation import CorrelationFilter, cross_correlation

    assert ex.check_cross_correlation(correlate)
    e, s = np.random.default_rng(0).normal(size=(2, 3, 3)), np.random.default_rng(1).normal(size=(2, 7, 6))
    # the package's layer agrees with the solution
    ours = cross_correlation(torch.tensor(e)[None], torch.tensor(s)[None])[0, 0].numpy()
    assert np.allclose(correlate(e, s), ours)
    flipped = lambda e, s: sum(signal.convolve2d(s[c], e[c], mode="valid") for c in range(len(e)))
    assert "flipped" in str(ex.check_cross_correlation(flipped))
    same = lambda e, s: sum(signal.correlate2d(s[c], e[c], mode="same") for c in range(len(e)))
    assert "no padding" in str(ex.check_cross_correlation(same))
    per_channel = lambda e, s: np.stack([signal.correlate2d(s[c], e[c], mode="valid") for c in range(len(e))])
    assert "sum the channels" in str(ex.check_cross_correlation(per_channel))

    assert ex.check_filter_response(filter_response)
    # the package's filter, with its own Gaussian label, agrees with the solution
    x, z = np.random.default_rng(2).normal(size=(3, 12, 10)), np.random.default_rng(3).normal(size=(3, 12, 10))
    f = CorrelationFilter(sigma=1.5, lam=0.1).fit(torch.tensor(x, dtype=torch.float32))
    label = f._label  # rfft2 of the Gaussian
    y = torch.fft.irfft2(label, s=(12, 10)).numpy()
    assert np.allclose(filter_response(x, y, z, 0.1), f.respond(torch.tensor(z, dtype=torch.float32)).numpy(), atol=1e-4)

    def variant(conj=True, shared=True, lam_on=True, real=True):
        def fn(x, y, z, lam):
            X, Y, Z = np.fft.fft2(x), np.fft.fft2(y), np.fft.fft2(z)
            num = Y[None] * (np.conj(X) if conj else X)
            lam = lam if lam_on else 0.0
            r = np.fft.ifft2((Z * num).sum(0) / ((np.abs(X) ** 2).sum(0) + lam)) if shared else \
                np.fft.ifft2((Z * num / (np.abs(X) ** 2 + lam)).sum(0))
            return np.real(r) if real else r
        return fn

    assert "conjugate" in str(ex.check_filter_response(variant(conj=False)))
    assert "one denominator" in str(ex.check_filter_response(variant(shared=False)))
    assert "add lam" in str(ex.check_filter_response(variant(lam_on=False)))
    assert "real part" in str(ex.check_filter_response(variant(real=False)))


#: the exercises whose checks try varied cases beyond the teaching one
VARIED = ["precision_at", "sample_labels", "ssd_map", "systematic_resample", "kl_sparsity", "hard_negatives",
          "box_deltas", "target_score", "success_rates", "dataset_auc", "vot_resets", "taylor_significance",
          "expected_average_overlap", "tracking_f_score", "correlate", "cd1_step", "box_from_objectness",
          "filter_response", "masking_noise"]


def hard_coded(solution):
    """A function that answers its first call (the teaching case) rightly, then returns that answer whatever it is
    given: a student who copied the teaching case's expected answer."""
    answers = []

    def fn(*args):
        if not answers:
            answers.append(solution(*args))
        return answers[0]
    return fn


@pytest.mark.parametrize("name", VARIED)
def test_a_hard_coded_teaching_answer_fails_and_the_solution_passes_on_any_seed(name):
    from instructor import solutions

    check, solution = ex.EXERCISES[name][1], getattr(solutions, name)
    result = check(hard_coded(solution))
    assert not result.passed and "right on the example above, but not on" in str(result), str(result)
    assert ex.draws_cases(name)
    for seed in range(1, 5):  # the grader's hidden cases: other seeds, against the instructor's solution
        assert ex.run_check(name, solution, seed=seed, reference=solution).passed, (name, seed)
        assert not ex.run_check(name, hard_coded(solution), seed=seed, reference=solution).passed, (name, seed)
    assert "further cases" in str(check(solution))  # seed 0: the answers the package records


def test_varied_cases_hold_the_edge_cases_and_differ_by_seed():
    assert ex._vot_reset_cases(np.random.default_rng(0))[0][0].size == 0  # an empty sequence
    assert ex._label_cases(np.random.default_rng(0))[0][0].size == 0
    assert any((b[:2] == 0).all() for b, _ in ex._box_delta_cases(np.random.default_rng(0)))  # at the image border
    ties = ex._hard_negative_cases(np.random.default_rng(0))[2][0]
    assert len(set(ties.tolist())) < len(ties)
    a, b = ex._precision_cases(np.random.default_rng(0)), ex._precision_cases(np.random.default_rng(1))
    assert any(len(x[0]) != len(y[0]) or not np.array_equal(x[0], y[0]) for x, y in zip(a[3:], b[3:]))


def test_a_wrong_answer_on_a_varied_case_is_shown_with_the_case():
    # right on the teaching case (its n is 3) but only ever returns 3 indices
    result = ex.check_hard_negatives(lambda s, n: np.argsort(s)[::-1][:3])
    assert not result.passed and "n = " in str(result) and "expected" in str(result)
    raising = ex.check_vot_resets(lambda o, skip: solutions_vot(o, skip) if len(o) else o[0])
    assert not raising.passed and "on overlaps [] with skip 5: your function raised IndexError" in str(raising)


def solutions_vot(overlaps, skip):
    from instructor.solutions import vot_resets

    return vot_resets(overlaps, skip)


def test_the_package_holds_no_solutions_and_its_recorded_answers_are_the_release_s():
    """The reference solutions live in the repository's instructor/, outside the installed package; the answers the
    package compares with are exactly what `python3 make.py release` records from them."""
    import importlib.util

    import deeptrack_lite
    from instructor import release, solutions

    assert importlib.util.find_spec("deeptrack_lite.course.solutions") is None
    package = "\n".join(p.read_text(encoding="utf-8") for p in Path(deeptrack_lite.__file__).parent.rglob("*.py"))
    bodies = {name: "\n".join(line for line in source.split("\n")[1:] if line.strip() and not line.strip().startswith("#"))
              for name, (_, source) in solutions.solution_cells().items()}
    # a one-line body (should_update's `return bool(np.max(confidences) < threshold)`) may be the tracker's own code
    copied = [name for name, body in bodies.items() if "\n" in body.strip() and body.strip() in package]
    assert len(bodies) == 23 and not copied, copied
    assert ex.ANSWERS_FILE.read_text(encoding="utf-8") == ex.encode_answers(release.recorded_answers()), \
        "the recorded answers are stale: run python3 make.py release"


def test_recorded_answers_round_trip_and_other_seeds_need_the_instructor_s_reference():
    for value in [np.array([1, 2], dtype=np.int64), np.array([[0.5, np.inf]]), (0.25, np.array([True, False])),
                  3, 0.1, float("nan"), np.array([], dtype=np.float64)]:
        back = ex._decoded(json.loads(json.dumps(ex._encoded(value))))
        assert type(back) is type(value) or isinstance(value, np.ndarray) and isinstance(back, np.ndarray)
        if isinstance(value, np.ndarray):
            assert back.dtype == value.dtype and back.shape == value.shape and np.array_equal(back, value)
    with pytest.raises(ex.ExerciseSetupError, match="reference="):
        ex.check_box_deltas(lambda box, target: None, seed=4)
