"""Command line: ``python -m deeptrack_lite COMMAND ...`` (``--help`` on any command explains it)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import DeepTrackError
from .evaluation.report import RANK_BY
from .fileio import make_folder
from .outputs import save_figure, write_text


DEFAULT_BENCHMARK_TRACKERS = "kcf,csrt,mil,mosse"
DEVICE_HELP = ("auto (the default: DEEPTRACK_DEVICE if set, else CUDA, then MPS, then the CPU, whichever this "
               "machine has first), cpu, cuda, cuda:N or mps")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value



def _seed_list(text: str) -> list[int]:
    from .trackers.parameters import check_seed  # the trackers' own rule; imported here so --help needs no torch

    try:
        return [check_seed(int(x)) for x in text.split(",") if x.strip()]
    except ValueError:  # not a whole number, or out of range (check_seed's TrackerError is a ValueError)
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers from 0 to 2**63 - 1 such as 0,1,2, "
                                         f"got {text!r}") from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 (no limit) or more, got {value:g}")
    return value


def _eao_interval(text: str):
    """LOW-HIGH as a pair of frames; a stack's name or 'estimated' as it is (checked where it is resolved)."""
    if "-" not in text:
        from .errors import DataError
        from .evaluation.vot import resolve_eao_interval

        try:
            resolve_eao_interval(text, [1])
        except DataError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return text.lower()
    try:
        low, high = (int(v) for v in text.split("-"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW-HIGH in frames, a VOT stack or 'estimated', got {text!r}") from None
    if not 0 <= low <= high:
        raise argparse.ArgumentTypeError(f"needs 0 <= LOW <= HIGH, got {text!r}")
    return low, high


def _info(args) -> int:
    from .runtime import describe_environment
    from .trackers import describe_trackers

    for key, value in describe_environment().items():
        print(f"{key:>14}: {value}")
    print("\ntrackers:")
    for name, text in describe_trackers().items():
        print(f"  {name:<10} {text}")
    return 0


def _write_synthetic(args) -> int:
    from .data import synthetic_benchmark, write_dataset_otb

    dataset = synthetic_benchmark(n_frames=args.frames, names=args.sequences.split(",") if args.sequences else None)
    root = write_dataset_otb(dataset, args.out, progress=True)
    print(f"wrote {len(dataset)} sequences in OTB layout to {root}")
    return 0


def _dataset(spec: str, frames=None, sequences: str = "", attributes_file=None, variant: int = 0):
    """The commands' datasets (``synthetic``, ``synthetic:NAME``, ``synthetic-longterm``, a folder, a sequence,
    a video): :func:`deeptrack_lite.data.resolve_dataset`."""
    from .data import resolve_dataset

    return resolve_dataset(spec, frames, sequences or None, attributes_file=attributes_file, variant=variant)


def _command_line(args) -> str:
    """The command as typed, for provenance files: ``python -m deeptrack_lite ARGS``."""
    from .version import command_line

    return command_line("deeptrack_lite", args.argv)


def _job_options(args) -> dict:
    """Where the benchmark's jobs run: this process, a child process with a time limit, or Dask workers."""
    if args.workers and args.scheduler:
        raise DeepTrackError("give --workers (a Dask cluster on this machine) or --scheduler (a running one), not both")
    from .evaluation.runner import job_options

    return job_options(job_timeout=args.job_timeout or None, workers=args.workers, scheduler=args.scheduler,
                       threads_per_worker=args.threads_per_worker)


def _benchmark(args) -> int:
    import time

    import matplotlib
    matplotlib.use("Agg")

    from .evaluation import evaluate_ope, plot_attributes, plot_ope, run_ope, tracker_labels, tracker_specs

    from .cpus import cpu_budget

    out = make_folder(args.out)
    dataset = _dataset(args.dataset, args.frames, args.sequences, args.attributes)
    seeds = args.seeds or None
    print(f"CPU budget: {cpu_budget()}")
    start = time.perf_counter()
    if args.protocol == "vot":
        if seeds:
            raise DeepTrackError("--seeds is for --protocol ope: VOT's supervised protocol runs each tracker once per "
                                 "sequence (seed 0), its resets being what repeats")
        return _benchmark_vot(args, dataset, out, start)
    if args.rescore:  # default: every tracker folder found there
        report = evaluate_ope(Path(args.rescore), dataset, trackers=tracker_labels(args.trackers), seeds=seeds)
        if not report.scores:
            raise DeepTrackError(f"{args.rescore} holds no results for the sequences of {dataset.name} (the layout: "
                                 "<tracker>/<sequence>.txt)")
    else:
        specs = tracker_specs(args.trackers or DEFAULT_BENCHMARK_TRACKERS)
        report = run_ope(specs, dataset, out / "results", seeds=seeds, device=args.device, overwrite=args.overwrite,
                         **_job_options(args))
    wall = time.perf_counter() - start
    print(f"\n{dataset.name}: {len(dataset)} sequences, {sum(len(s) for s in dataset)} frames; wall time {wall:.1f} s\n")
    print(report.table(by=args.rank_by))
    if any(s.attributes for s in dataset):
        print("\nsuccess AUC per attribute (number of sequences):")
        print(report.attribute_table())
    report.save_json(out / "summary.json")
    write_text(out / "table.md", report.table(by=args.rank_by, markdown=True) + "\n")
    save_figure(plot_ope(report), out / "ope.png", dpi=120)
    if any(s.attributes for s in dataset):
        save_figure(plot_attributes(report), out / "attributes.png", dpi=100)
    print(f"\nwrote {out / 'ope.png'}, {out / 'summary.json'} and {out / 'table.md'}")
    if not seeds and not report.failures and any(not s.target_visible.all() for s in dataset):
        _presence_report(Path(args.rescore) if args.rescore else out / "results", dataset, report.trackers, out)
    if report.failures:
        print(f"\n{len(report.failures)} run(s) failed:", file=sys.stderr)
        for (tracker, seq, seed), err in report.failures.items():
            print(f"  {tracker} on {seq}" + (f" (seed {seed})" if seed is not None else "") + f": {err}", file=sys.stderr)
        return 1
    return 0


def _presence_report(results_dir, dataset, trackers, out) -> None:
    """The long-term table, printed and written to OUT/presence.json, for a dataset with absent frames."""
    import json

    from .evaluation.longterm import evaluate_presence

    report = evaluate_presence(results_dir, dataset, trackers)
    print("\n" + report.table())
    write_text(out / "presence.json", json.dumps(report.to_dict(), indent=1) + "\n")
    print(f"wrote {out / 'presence.json'}")


def _calibrate_presence(args) -> int:
    from .data import default_data_dir, long_term_benchmark
    from .evaluation import tracker_labels
    from .evaluation.longterm import calibrate_presence, write_presence_calibration
    from .trackers import available_trackers, tracker_class
    from .version import provenance

    names = tracker_labels(args.trackers) or [n for n in available_trackers()
                                              if tracker_class(n).SCORE and not n.startswith("test")]
    dataset = long_term_benchmark(n_frames=args.frames, variant=args.variant)
    work = args.work or default_data_dir() / "presence-calibration" / f"{dataset.name}-{len(dataset[0])}f"
    command = _command_line(args)
    print(f"calibrating on {dataset.name}: {len(dataset)} sequences of {len(dataset[0])} frames "
          f"({sum(int((~s.target_visible).sum()) for s in dataset)} absent frames); runs in {work}")
    table = calibrate_presence(names, dataset, work, device=args.device)
    prov = dict(provenance(command), dataset=dataset.name, frames=len(dataset[0]), variant=args.variant,
                sequences=[s.name for s in dataset])
    path = write_presence_calibration(args.out, table, prov)
    print(f"{'tracker':16s} {'threshold':>10s} {'F':>6s} {'Pr':>6s} {'Re':>6s}")
    for name, row in table.items():
        tau = "always" if row["threshold"] is None else f"{row['threshold']:.4g}"
        print(f"{name:16s} {tau:>10s} {row['f_score']:6.3f} {row['precision']:6.3f} {row['recall']:6.3f}")
    print(f"wrote {path}")
    return 0


def _benchmark_vot(args, dataset, out, start) -> int:
    import json
    import time

    from .evaluation import evaluate_vot, run_vot, tracker_labels, tracker_specs

    if args.rescore:
        report = evaluate_vot(Path(args.rescore), dataset, trackers=tracker_labels(args.trackers), interval=args.eao_interval,
                              eao_length=args.eao_length)
    else:
        report = run_vot(tracker_specs(args.trackers or DEFAULT_BENCHMARK_TRACKERS), dataset, out / "results",
                         device=args.device, interval=args.eao_interval, eao_length=args.eao_length,
                         **_job_options(args))
    print(f"\n{dataset.name}: {len(dataset)} sequences, {sum(len(s) for s in dataset)} frames; wall time "
          f"{time.perf_counter() - start:.1f} s\n")
    print(report.table())
    write_text(out / "summary.json", json.dumps(report.to_dict(), indent=1) + "\n")
    print(f"\nwrote {out / 'summary.json'}; trajectories in the VOT toolkit's layout under {out / 'results'}")
    for (tracker, seq), why in report.failed.items():
        print(f"  {tracker} on {seq}: {why}", file=sys.stderr)
    return 1 if report.failed else 0


def _speed(args) -> int:
    from .evaluation import measure_speed
    from .jobs import limit_threads

    limit_threads(args.threads)
    dataset = _dataset(args.dataset, args.frames, args.sequences)
    report = measure_speed(args.trackers, dataset, device=args.device, seed=args.seed)
    print(report.table())
    low = [label for label, t in report.trackers.items() if abs(t.coverage - 1) > 0.1]
    if low:
        print(f"note: the timers of {', '.join(low)} account for less than 90% of the measured time", file=sys.stderr)
    if args.json:
        make_folder(args.json.parent)
        report.save_json(args.json)
        print(f"wrote {args.json}")
    return 0


def _track(args) -> int:
    import numpy as np

    from .boxes import iou
    from .evaluation import summarize
    from .trackers import create_tracker, track
    from .viz import draw_boxes
    from .viz.video import DEFAULT_SUFFIX, VideoWriter

    seq = _dataset(args.sequence)[0]
    if args.frames:  # the first N frames of the whole sequence (a synthetic one is rendered at its usual length)
        seq = seq.subsequence(0, args.frames)
    run = track(create_tracker(args.tracker, device=args.device), seq)
    scores = summarize(run.boxes, seq.ground_truth)
    print(f"{args.tracker} on {seq.name}: success AUC {scores['success_auc']:.3f}, precision@20px "
          f"{scores['precision_20px']:.3f}, {run.fps:.1f} FPS on {run.device}")
    out = Path(args.out) if args.out else Path(f"{args.tracker}-{seq.name}{DEFAULT_SUFFIX}")
    overlaps = iou(run.boxes, seq.ground_truth)
    with VideoWriter(out, args.fps or seq.fps, seq.frame_size) as video:
        for i in range(len(seq)):
            video.write(draw_boxes(seq.frame(i), {"ground truth": seq.ground_truth[i], args.tracker: run.boxes[i]},
                                   caption=f"frame {i + 1}/{len(seq)}  IoU {np.nan_to_num(overlaps[i]):.2f}"))
    print(f"{video.fourcc}: {video.plays}")
    print(f"wrote {out}")
    return 0


def _settings(config_class, given: dict):
    """A trainer's settings: its fast-mode or full defaults, then the options given on the command line."""
    from dataclasses import replace

    from .runtime import fast_mode

    config = config_class.fast() if fast_mode() else config_class()
    return replace(config, **{k: v for k, v in given.items() if v is not None})


def _describe(config) -> str:
    from dataclasses import asdict

    return ", ".join(f"{k}={v}" for k, v in asdict(config).items())


def _pretrain(args, config_class, train, given: dict, done) -> int:
    """The training commands' shared steps: settings (:func:`_settings`), the command line recorded in the
    provenance, a resumable run, and ``done(provenance)`` printed at the end."""
    config = _settings(config_class, given)
    print("settings: " + _describe(config))
    result = train(config, args.out, device=args.device, resume=not args.no_resume, command=_command_line(args),
                   keep_checkpoint=args.keep_checkpoint)
    print("\n" + done(result.provenance))
    return 0


def _pretrain_sdae(args) -> int:
    from .training import SDAEPretrainConfig, pretrain_sdae

    given = {"sizes": tuple(int(v) for v in args.sizes.split(",")) if args.sizes else None, "n_patches": args.patches,
             "n_val": args.val_patches, "noise": args.noise, "noise_level": args.noise_level,
             "sparsity_target": args.sparsity_target, "sparsity_weight": args.sparsity_weight,
             "layer_epochs": args.layer_epochs, "finetune_epochs": args.finetune_epochs, "batch_size": args.batch_size,
             "lr": args.lr, "seed": args.seed}
    return _pretrain(args, SDAEPretrainConfig, pretrain_sdae, given, lambda p: (
        f"wrote {args.out / 'sdae.pt'}, sdae.json (provenance) and sdae_loss.csv: final validation reconstruction "
        f"MSE {p['final_val_reconstruction_mse']:.4f} after {p['training_seconds']} s on {p['device']}"))


def _pretrain_dbn(args) -> int:
    from .training import DBNPretrainConfig, pretrain_dbn

    given = {"sizes": tuple(int(v) for v in args.sizes.split(",")) if args.sizes else None, "n_patches": args.patches,
             "n_val": args.val_patches, "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
             "lr_gaussian": args.lr_gaussian, "cd_k": args.cd_k, "seed": args.seed}
    return _pretrain(args, DBNPretrainConfig, pretrain_dbn, given, lambda p: (
        f"wrote {args.out / 'dbn.pt'}, dbn.json (provenance) and dbn_log.csv: validation reconstruction MSE "
        f"{p['final_val_reconstruction_mse']:.4f} through every layer, after {p['training_seconds']} s on {p['device']}"))


def _pretrain_sodlt(args) -> int:
    from .training import SODLTPretrainConfig, pretrain_sodlt

    given = {"n_train": args.samples, "n_val": args.val_samples, "epochs": args.epochs, "batch_size": args.batch_size,
             "lr": args.lr, "context": args.context, "seed": args.seed}
    return _pretrain(args, SODLTPretrainConfig, pretrain_sodlt, given, lambda p: (
        f"wrote {args.out / 'sodlt.pt'}, sodlt.json (provenance) and sodlt_log.csv: on held-back frames, mask IoU "
        f"{p['final_val_mask_iou']:.3f} and box IoU {p['final_val_box_iou']:.3f}, after {p['training_seconds']} s "
        f"on {p['device']}"))


def _train_siamfc(args) -> int:
    from .training.siamfc import SiamFCTrainConfig, train_siamfc

    dataset = _dataset(args.dataset, args.frames) if args.dataset else None
    given = {"n_train": args.pairs, "n_val": args.val_pairs, "epochs": args.epochs, "batch_size": args.batch_size,
             "lr": args.lr, "seed": args.seed}
    return _pretrain(args, SiamFCTrainConfig, lambda config, out, **kw: train_siamfc(config, out, dataset=dataset, **kw),
                     given, lambda p: (
        f"wrote {args.out / 'siamfc.pt'}, siamfc.json (provenance) and siamfc_log.csv: on held-back pairs the response "
        f"peak lies {p['final_val_center_error']:.1f} crop pixels from the target on average, within the positive "
        f"radius on {100 * p['final_val_hit_rate']:.0f}% of pairs; {p['training_seconds']} s on {p['device']}"))


def _train_recurrent(args) -> int:
    from .training.recurrent import RecurrentTrainConfig, train_recurrent

    dataset = _dataset(args.dataset, args.frames) if args.dataset else None
    given = {"n_clips": args.clips, "n_val": args.val_clips, "epochs_per_unroll": args.epochs_per_unroll,
             "batch_size": args.batch_size, "lr": args.lr, "seed": args.seed}
    return _pretrain(args, RecurrentTrainConfig,
                     lambda config, out, **kw: train_recurrent(config, out, dataset=dataset, **kw), given, lambda p: (
        f"wrote {args.out / 'recurrent.pt'}, recurrent.json (provenance) and recurrent_log.csv: mean IoU on held-back "
        f"clips {p['final_val_iou']:.3f} (answering the box the crop is centred on: {p['final_val_iou_unmoved']:.3f}); "
        f"{p['training_seconds']} s on {p['device']}"))


def _train_mdnet(args) -> int:
    import os

    from .data import Dataset
    from .training import MDNetTrainConfig, train_mdnet

    given = {"cycles": args.cycles, "frames_per_batch": args.frames_per_batch, "batch_pos": args.batch_pos,
             "batch_neg": args.batch_neg, "lr_conv": args.lr_conv, "lr_fc": args.lr_fc, "train_blocks": args.train_blocks,
             "single_domain": args.single_domain or None, "seed": args.seed}
    config = _settings(MDNetTrainConfig, given)
    sequences, described = [], []
    for spec in [d for d in args.domains.split(",") if d]:
        ds = _dataset(spec, args.frames, variant=args.variant)
        if spec.startswith("synthetic"):
            described.append(f"the synthetic benchmark's {len(ds)} scenarios drawn as variant {args.variant} "
                             f"(seeds + {1000 * args.variant}), {len(ds[0])} frames each")
        else:
            described.append(f"{len(ds)} sequences of {spec}")
        sequences += list(ds)
    writes = int(os.environ.get("RANK", "0")) == 0  # under torchrun only rank 0 speaks (and writes)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if writes:
        print(f"{len(sequences)} domains" + (f" over {world} processes" if world > 1 else "") + "; settings: "
              + _describe(config))
    result = train_mdnet(Dataset("domains", sequences), config, args.out, device=args.device, resume=not args.no_resume,
                         command=_command_line(args), data="; ".join(described), keep_checkpoint=args.keep_checkpoint,
                         weights_name=args.name, stop_after=args.stop_after, progress=writes)
    p = result.provenance
    if not writes:
        return 0
    if not p:
        print(f"\nstopped after cycle {result.log[-1]['cycle'] if result.log else 0} of {config.cycles}; run the same "
              f"command again to go on from {args.out / (Path(args.name).stem + '_checkpoint.pt')}")
        return 0
    print(f"\nwrote {args.out / args.name}, its .json (provenance) and log: last cycles' training loss "
          f"{p['final_loss']:.3f}, accuracy {p['final_accuracy']:.3f}, after {p['training_seconds']} s on {p['device']}")
    return 0


def _add_run_options(p, keep_help: str) -> None:
    """The options every resumable training command takes: the device, starting over, keeping the checkpoint."""
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--no-resume", action="store_true", help="start over even if OUT holds a checkpoint")
    p.add_argument("--keep-checkpoint", action="store_true", help=keep_help)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m deeptrack_lite",
                                     description="The course's command line: benchmarks, training, videos of runs. "
                                                 "Run `python -m deeptrack_lite COMMAND --help` for one command.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("info", help="versions, compute device and the registered trackers")
    p.set_defaults(func=_info)
    p = sub.add_parser("write-synthetic", help="write the synthetic benchmark in OTB layout (for other toolkits)")
    p.add_argument("--out", required=True, type=Path, help="folder to write the sequences into")
    p.add_argument("--frames", type=_positive_int, default=None, help="frames per sequence (default 150; 40 in fast mode)")
    p.add_argument("--sequences", default="", help="comma-separated subset of the benchmark's sequence names")
    p.set_defaults(func=_write_synthetic)

    p = sub.add_parser("benchmark", help="one-pass evaluation (OPE) of trackers on a dataset: table, plots, JSON",
                       description="Run trackers one pass over every sequence, store results in the OTB/got10k "
                       "layout under OUT/results (an interrupted run resumes), then print the ranked table and "
                       "write OUT/ope.png (precision and success plots), OUT/attributes.png, OUT/summary.json "
                       "and OUT/table.md.")
    p.add_argument("--dataset", default="synthetic", help="'synthetic' (the course benchmark), 'synthetic-longterm' "
                   "(the target leaves the view: the long-term presence table is printed too, as for any dataset with "
                   "absent frames) or a folder of OTB / VOT / GOT-10k sequences (default: synthetic)")
    p.add_argument("--trackers", default=None, help="comma-separated tracker names "
                   f"(default: {DEFAULT_BENCHMARK_TRACKERS}; with --rescore, every tracker folder there; see 'info' for all); settings as NAME:key=value:key=value, and a "
                   "results label as LABEL=NAME..., e.g. dlt,dlt-random=dlt:pretrained=false")
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument("--seeds", type=_seed_list, default=[], help="comma-separated seeds to repeat stochastic trackers "
                   "(mean ± std); each run is create_tracker(name, seed=s), deterministic trackers run once")
    p.add_argument("--frames", type=_positive_int, default=None, help="frames per sequence (synthetic: default 150, 40 in "
                   "fast mode; folders: the first N frames)")
    p.add_argument("--sequences", default="", help="comma-separated subset of sequence names")
    p.add_argument("--attributes", default=None, help="tag file 'Sequence: IV, SV, ...' for a folder dataset "
                   "(default: <dataset>/attributes.txt when present)")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--protocol", choices=["ope", "vot"], default="ope", help="ope: OTB's one-pass evaluation (default); "
                   "vot: VOT's supervised protocol (reset 5 frames after a failure; accuracy, failures, EAO)")
    p.add_argument("--eao-interval", type=_eao_interval, default=None, metavar="LOW-HIGH|STACK|estimated",
                   help="with --protocol vot: the lengths the EAO score averages, as LOW-HIGH, a VOT stack's fixed "
                   "interval (vot2015, vot2016: 108-371; vot2017, vot2018: 100-356) or 'estimated' from the sequence "
                   "lengths (this package's rule); default: the stack's when the dataset folder is named after one, "
                   "else estimated. The table says which was used")
    p.add_argument("--eao-length", choices=["longest-segment", "longest-sequence"], default="longest-segment",
                   help="with --protocol vot: where the EAO curve ends: the longest segment (vot-toolkit 0.9.0, "
                   "default) or the longest sequence (the legacy MATLAB toolkit's extent)")
    p.add_argument("--rank-by", default="success_auc", choices=RANK_BY,
                   help="the column the table is sorted by (default: success_auc)")
    p.add_argument("--overwrite", action="store_true", help="run again even where results exist (results made with "
                   "other settings, seeds, frames or package version are always run again)")
    p.add_argument("--workers", type=_positive_int, default=None, metavar="N", help="run the (tracker, sequence, seed) "
                   "jobs on a Dask cluster of N worker processes on this machine (the dashboard address is printed when "
                   "bokeh is installed); default: one after the other in this process")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS", help="run the jobs on a running Dask cluster, e.g. "
                   "tcp://host:8786 (its workers must see the dataset at the same path; see the README)")
    p.add_argument("--threads-per-worker", type=_positive_int, default=None, metavar="T", help="torch and OpenCV threads "
                   "per job with --workers or --scheduler (default with --workers: the cores divided among the workers; with "
                   "--scheduler: 1)")
    p.add_argument("--job-timeout", "--time-limit", type=_seconds, default=0, metavar="SECONDS", help="stop a run "
                   "after SECONDS and record it as failed (a tracker that hangs cannot stop the benchmark): without "
                   "--workers or --scheduler the runs then go to a child process; on Dask workers the limit is always "
                   "on (default there: 4 hours); 0, the default, runs everything in this process")
    p.add_argument("--rescore", default=None, metavar="RESULTS_DIR", help="score an existing results folder "
                   "(<tracker>/<sequence>.txt, e.g. from got10k or pytracking) instead of running trackers")
    p.set_defaults(func=_benchmark)

    p = sub.add_parser("speed", help="FPS of trackers with and without init, and where their time goes",
                       description="Runs each tracker over the same frames, one after the other in this process, and "
                       "prints per tracker: FPS as docs/design.md defines it (init included) and without init, the mean "
                       "init time, milliseconds per frame in each stage (training, sampling, features, scoring, "
                       "box_regression, other = Python overhead) from the trackers' own timers, and the success AUC, "
                       "with the device and the torch thread count. --json writes it all for comparison between "
                       "commits. Run nothing else meanwhile: two torch processes on the same cores slow each other.")
    p.add_argument("--trackers", default="mdnet,fcnt,dlt", help="comma-separated tracker names, settings as "
                   "NAME:key=value (default: mdnet,fcnt,dlt)")
    p.add_argument("--dataset", default="synthetic", help="'synthetic' or a folder of OTB / VOT / GOT-10k sequences")
    p.add_argument("--frames", type=_positive_int, default=None, help="frames per sequence (synthetic: default 150, 40 in "
                   "fast mode; folders: the first N frames)")
    p.add_argument("--sequences", default="", help="comma-separated subset of sequence names")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--threads", type=_positive_int, default=None, help="torch and OpenCV threads (default: their "
                   "own, about one per core)")
    p.add_argument("--seed", type=int, default=0, help="the trackers' seed (default 0)")
    p.add_argument("--json", type=Path, default=None, help="write the figures to this JSON file")
    p.set_defaults(func=_speed)

    p = sub.add_parser("track", help="run one tracker on one sequence and write a video with the boxes drawn",
                       description="Writes a video with the ground truth (green) and the tracker's box drawn on "
                       "every frame, for lectures, and prints the sequence's scores and speed. The format follows "
                       "--out's suffix: .webm (VP8, the default) plays in every browser and inline in JupyterLab; "
                       ".mp4 is MPEG-4 Part 2, which browsers refuse (OpenCV's wheels have no H.264 encoder); .avi "
                       "is Motion JPEG.")
    p.add_argument("--tracker", required=True, help="tracker name, e.g. kcf")
    p.add_argument("--sequence", required=True, help="a sequence folder or video, or synthetic:NAME (e.g. synthetic:CupHide)")
    p.add_argument("--out", type=Path, default=None,
                   help="video file to write: .webm (default: TRACKER-SEQUENCE.webm here), .mp4 or .avi")
    p.add_argument("--frames", type=_positive_int, default=None, help="only the first N frames")
    p.add_argument("--fps", type=float, default=None, help="frame rate of the video (default: the sequence's)")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.set_defaults(func=_track)

    p = sub.add_parser("pretrain-sdae", help="pretrain DLT's stacked denoising autoencoder on natural image patches",
                       description="Greedy layer-wise denoising pretraining, then end-to-end fine-tuning, on random "
                       "32x32 grey patches of scikit-image's bundled pictures. Writes OUT/sdae.pt, OUT/sdae.json "
                       "(provenance: this command, settings, data, final loss) and OUT/sdae_loss.csv; a checkpoint "
                       "after every epoch lets an interrupted run resume. Unset options take the defaults of "
                       "SDAEPretrainConfig (a seconds-long run in fast mode).")
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument("--sizes", default=None, help="layer sizes, input first (default 1024,512,256,128; DLT used "
                   "1024,2560,1024,512,256)")
    p.add_argument("--patches", type=int, default=None, help="number of training patches (default 100000)")
    p.add_argument("--val-patches", type=int, default=None, help="held-out patches for the validation loss (default 2000)")
    p.add_argument("--noise", choices=["masking", "gaussian", "none"], default=None, help="input corruption (default masking)")
    p.add_argument("--noise-level", type=float, default=None, help="masked fraction or Gaussian std (default 0.3)")
    p.add_argument("--sparsity-target", type=float, default=None, help="target mean activation rho (default 0.05)")
    p.add_argument("--sparsity-weight", type=float, default=None, help="weight of the KL sparsity penalty (default 0.1)")
    p.add_argument("--layer-epochs", type=int, default=None, help="epochs per layer in the greedy stage (default 3)")
    p.add_argument("--finetune-epochs", type=int, default=None, help="epochs of end-to-end fine-tuning (default 5)")
    p.add_argument("--batch-size", type=int, default=None, help="minibatch size (default 128)")
    p.add_argument("--lr", type=float, default=None, help="Adam learning rate (default 0.001)")
    p.add_argument("--seed", type=int, default=None, help="seed of the data, the initial weights and the noise (default 0)")
    _add_run_options(p, "keep OUT/sdae_checkpoint.pt after the run")
    p.set_defaults(func=_pretrain_sdae)

    p = sub.add_parser("pretrain-dbn", help="pretrain a deep belief network (stacked RBMs) on DLT's natural image patches",
                       description="Greedy layer-wise contrastive divergence: a Gaussian-Bernoulli RBM on the same "
                       "standardised 32x32 grey patches as pretrain-sdae, then Bernoulli-Bernoulli RBMs on the hidden "
                       "probabilities below. Writes OUT/dbn.pt, OUT/dbn.json (provenance) and OUT/dbn_log.csv; "
                       "resumable. Unset options take the defaults of DBNPretrainConfig (seconds in fast mode).")
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument("--sizes", default=None, help="layer sizes, input first (default 1024,512,256,128, as the SDAE)")
    p.add_argument("--patches", type=int, default=None, help="number of training patches (default 100000)")
    p.add_argument("--val-patches", type=int, default=None, help="held-out patches (default 2000)")
    p.add_argument("--epochs", type=int, default=None, help="CD epochs per RBM (default 5)")
    p.add_argument("--batch-size", type=int, default=None, help="minibatch size (default 100)")
    p.add_argument("--lr", type=float, default=None, help="learning rate of the Bernoulli-Bernoulli RBMs (default 0.05)")
    p.add_argument("--lr-gaussian", type=float, default=None, help="learning rate of the pixel RBM (default 0.002)")
    p.add_argument("--cd-k", type=int, default=None, help="Gibbs steps of contrastive divergence (default 1)")
    p.add_argument("--seed", type=int, default=None, help="seed of the data, the initial weights and the sampling (default 0)")
    _add_run_options(p, "keep OUT/dbn_checkpoint.pt after the run")
    p.set_defaults(func=_pretrain_dbn)

    p = sub.add_parser("pretrain-sodlt", help="pretrain SO-DLT's objectness network on synthetic frames with known masks",
                       description="Renders jittered regions around the targets of the synthetic scenarios (drawn "
                       "with seeds the benchmark does not use), computes the frozen ImageNet trunk's features once, and "
                       "trains the objectness head to predict each target's visible mask; validates on frames of "
                       "another draw. Writes OUT/sodlt.pt, OUT/sodlt.json (provenance) and OUT/sodlt_log.csv; "
                       "resumable. Unset options take the defaults of SODLTPretrainConfig (seconds in fast mode).")
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument("--samples", type=int, default=None, help="training regions (default 4000)")
    p.add_argument("--val-samples", type=int, default=None, help="held-back regions (default 400)")
    p.add_argument("--epochs", type=int, default=None, help="epochs (default 15)")
    p.add_argument("--batch-size", type=int, default=None, help="minibatch size (default 32)")
    p.add_argument("--lr", type=float, default=None, help="Adam learning rate (default 0.001)")
    p.add_argument("--context", type=float, default=None, help="search region side in target sizes (default 2.5)")
    p.add_argument("--seed", type=int, default=None, help="seed of the samples and the initial weights (default 0)")
    _add_run_options(p, "keep OUT/sodlt_checkpoint.pt after the run")
    p.set_defaults(func=_pretrain_sodlt)

    p = sub.add_parser("train-mdnet", help="train MDNet's shared layers multi-domain (one branch per sequence)",
                       description="Multi-domain training as in MDNet: every iteration takes one sequence (domain), "
                       "samples positives (IoU >= 0.7) and negatives (IoU <= 0.5) on a few of its frames and updates "
                       "the shared layers and that domain's branch. Writes OUT/NAME (learned weights), its .json "
                       "(provenance: this command, settings, data, final figures) and NAME_log.csv (loss and "
                       "accuracy per iteration and domain); a checkpoint after every cycle lets an interrupted run "
                       "resume. Unset options take the defaults of MDNetTrainConfig (two cycles in fast mode). "
                       "Several processes train together under torchrun (torchrun --standalone --nproc_per_node N -m "
                       "deeptrack_lite train-mdnet ...): the domains are dealt out among them, the shared layers' "
                       "gradients are averaged (DistributedDataParallel: gloo on CPUs, NCCL on GPUs) and rank 0 writes "
                       "the files; a checkpoint resumes in any number of processes.")
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument("--name", default="mdnet.pt", help="weight file name (default mdnet.pt)")
    p.add_argument("--domains", default="synthetic", help="comma-separated: 'synthetic' (the synthetic benchmark's "
                   "scenarios, drawn with other seeds) and/or folders of OTB / VOT / GOT-10k sequences (default: synthetic)")
    p.add_argument("--variant", type=int, default=1, help="which draw of the synthetic scenarios (default 1; 0 is the "
                   "benchmark itself, which training would then have seen)")
    p.add_argument("--frames", type=_positive_int, default=None, help="frames per sequence (synthetic: default 150, 40 in "
                   "fast mode; folders: the first N frames)")
    p.add_argument("--cycles", type=int, default=None, help="passes over all domains (default 40)")
    p.add_argument("--frames-per-batch", type=int, default=None, help="frames sampled per iteration (default 4)")
    p.add_argument("--batch-pos", type=int, default=None, help="positives per iteration (default 32)")
    p.add_argument("--batch-neg", type=int, default=None, help="negatives per iteration (default 96)")
    p.add_argument("--lr-conv", type=float, default=None, help="Adam learning rate of the trained conv blocks (default 1e-4)")
    p.add_argument("--lr-fc", type=float, default=None, help="Adam learning rate of fc4-fc6 (default 1e-3)")
    p.add_argument("--train-blocks", type=int, default=None, help="Lite0 blocks trained below fc4 (default 2)")
    p.add_argument("--single-domain", action="store_true", help="one branch for all sequences (the ablation)")
    p.add_argument("--stop-after", type=_positive_int, default=None, metavar="CYCLES", help="stop after this many "
                   "cycles in this call, keeping the checkpoint (a batch job's time slot); the same command goes on")
    p.add_argument("--seed", type=int, default=None, help="seed of the samples, the new layers and dropout (default 0)")
    _add_run_options(p, "keep the checkpoint after the run")
    p.set_defaults(func=_train_mdnet)

    p = sub.add_parser("train-siamfc", help="train SiamFC's Siamese network on pairs of frames from video",
                       description="Crops exemplar/search pairs from videos (the synthetic scenarios drawn with seeds the "
                       "benchmark does not use, or --dataset), computes the frozen ImageNet trunk's features once, and "
                       "trains the shared embedding adjustment with the logistic loss on response maps; validates on "
                       "held-back pairs. Writes OUT/siamfc.pt, OUT/siamfc.json (provenance) and OUT/siamfc_log.csv; "
                       "resumable. Unset options take the defaults of SiamFCTrainConfig (seconds in fast mode).")
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument("--dataset", default=None, help="a folder of OTB / VOT / GOT-10k sequences to train on instead "
                   "(its last tenth of sequences held back)")
    p.add_argument("--frames", type=_positive_int, default=None, help="with --dataset: the first N frames of each")
    p.add_argument("--pairs", type=int, default=None, help="training pairs (default 2400)")
    p.add_argument("--val-pairs", type=int, default=None, help="held-back pairs (default 300)")
    p.add_argument("--epochs", type=int, default=None, help="epochs (default 12)")
    p.add_argument("--batch-size", type=int, default=None, help="minibatch size (default 16)")
    p.add_argument("--lr", type=float, default=None, help="Adam learning rate (default 0.001)")
    p.add_argument("--seed", type=int, default=None, help="seed of the pairs and the initial weights (default 0)")
    _add_run_options(p, "keep OUT/siamfc_checkpoint.pt after the run")
    p.set_defaults(func=_train_siamfc)

    p = sub.add_parser("train-recurrent", help="train the recurrent (Re3-style) tracker on unrolled video clips",
                       description="Crops clips of consecutive frames from videos (the synthetic scenarios drawn with "
                       "seeds the benchmark does not use, or --dataset), computes the frozen ImageNet trunk's features "
                       "once, and trains the LSTM tracker with unrolls of growing length; validates on held-back clips. "
                       "Writes OUT/recurrent.pt, OUT/recurrent.json (provenance) and OUT/recurrent_log.csv; resumable. "
                       "Unset options take the defaults of RecurrentTrainConfig (seconds in fast mode).")
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument("--dataset", default=None, help="a folder of OTB / VOT / GOT-10k sequences to train on instead "
                   "(its last tenth of sequences held back)")
    p.add_argument("--frames", type=_positive_int, default=None, help="with --dataset: the first N frames of each")
    p.add_argument("--clips", type=int, default=None, help="training clips (default 480)")
    p.add_argument("--val-clips", type=int, default=None, help="held-back clips (default 48)")
    p.add_argument("--epochs-per-unroll", type=int, default=None, help="epochs at each unroll length (default 4)")
    p.add_argument("--batch-size", type=int, default=None, help="minibatch size (default 16)")
    p.add_argument("--lr", type=float, default=None, help="Adam learning rate (default 0.001)")
    p.add_argument("--seed", type=int, default=None, help="seed of the clips and the initial weights (default 0)")
    _add_run_options(p, "keep OUT/recurrent_checkpoint.pt after the run")
    p.set_defaults(func=_train_recurrent)

    p = sub.add_parser("calibrate-presence", help="choose each tracker's presence threshold on sequences where the "
                       "target leaves the view", description="Run trackers on the long-term synthetic sequences "
                       "(variant 1 by default: the held-out variant 0 measures the result), and write, per tracker, "
                       "the threshold on last_info['score'] with the best long-term F-score, with this command and "
                       "its settings. The package ships deeptrack_lite/trackers/presence.json made by this command.")
    p.add_argument("--out", required=True, type=Path, help="the JSON file to write (the package's: "
                   "deeptrack_lite/trackers/presence.json)")
    p.add_argument("--trackers", default=None, help="comma-separated tracker names (default: every tracker with a score)")
    p.add_argument("--frames", type=_positive_int, default=100, help="frames per sequence (default 100)")
    p.add_argument("--variant", type=int, default=1, help="which draw of the long-term scenarios (default 1)")
    p.add_argument("--work", type=Path, default=None, help="folder for the runs (resumable; default: in the data folder)")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.set_defaults(func=_calibrate_presence)
    return parser


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    args.argv = argv  # recorded in provenance files
    try:
        return args.func(args)
    except DeepTrackError as exc:  # bad input: one clear line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # results and checkpoints are written atomically: nothing half-done is kept
        print("\ninterrupted; run the same command again to resume", file=sys.stderr)
        return 130
