"""Figures for papers (issue 12): `collabgap report RUN --figures DIR --format png,svg,pdf` over a real store, and
the matplotlib figures behind it: axis titles, a colour bar, intervals inside the axes, a K = 0 reference."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from collabgap.services.coordinator import EpisodeRecord, RelaySpec, Store
from collabgap.services.coordinator.analysis._analysis import Analysis, analyze
from collabgap.services.coordinator.report._figures import FORMATS, gap_chart, pair_heatmap, relay_chart, write_figures
from tests._command import COLLABGAP
from tests.services.coordinator.test_report import FULL, MINI, NORTH, SOUTH, episode

RUN = "paper-figures"
SVG = "{http://www.w3.org/2000/svg}"


def relay(k: int, maze: int, weighted: float) -> EpisodeRecord:
    """gpt-4.1 opens and hands seat A to gpt-4.1-mini after k messages (a primer relay)."""
    played = episode(FULL, MINI, maze, weighted)
    spec = played.spec.model_copy(update={"episode_id": f"pair/referee/relay-primer-K{k}/m{maze}",
                                          "relay": RelaySpec(kind="primer", after_messages=k, seat_a=MINI)})
    return played.model_copy(update={"spec": spec})


@pytest.fixture(scope="module")
def records() -> list[EpisodeRecord]:
    """Homogeneous and mixed pairs, a solo cell, a paper-mode pair, and a relay curve that dips below zero."""
    return [
        *(episode(MINI, MINI, m, w) for m, w in enumerate([0.25, 0.5, 1.0])),
        *(episode(FULL, MINI, m, 0.5) for m in range(3)),
        *(episode(MINI, None, m, w) for m, w in enumerate([0.5, 1.0, 1.0])),
        *(episode(NORTH, SOUTH, m, 0.5, mode="paper") for m in range(3)),
        *(relay(k, m, w) for k in (2, 4) for m, w in enumerate([0.9, -0.8, 1.0])),
    ]


@pytest.fixture(scope="module")
def analysis(records: list[EpisodeRecord]) -> Analysis:
    return analyze(records)


@pytest.fixture(scope="module")
def run_dir(records: list[EpisodeRecord], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The records in a real SQLite store, as `collabgap run` leaves them."""
    folder = tmp_path_factory.mktemp("runs") / RUN
    with Store.open(f"sqlite:///{folder / 'store.db'}") as store:
        store.start_run(RUN, {"name": RUN, "mazes": {"count": 3, "size": 3}, "repetitions": 1}, {})
        for record in records:
            store.save_episode(RUN, record)
    return folder


@pytest.fixture(scope="module")
def reported(run_dir: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    figures = run_dir / "figures"
    done = subprocess.run([*COLLABGAP, "report", str(run_dir), "--figures", str(figures), "--format", "png,svg,pdf"],
                          capture_output=True, text=True, timeout=300)
    return figures, done


def texts(svg: ET.Element) -> list[str]:
    return [node.text or "" for node in svg.iter(f"{SVG}text")]


def test_report_writes_every_figure_as_png_svg_and_pdf(reported: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    figures, done = reported
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in figures.iterdir()) == sorted(f"{name}.{fmt}" for name in ("pairs", "gap", "relay")
                                                                for fmt in FORMATS)
    for name in ("pairs", "gap", "relay"):
        with Image.open(figures / f"{name}.png") as image:
            image.verify()
            assert image.format == "PNG" and image.size[0] > 600 and image.size[1] > 400
        assert (figures / f"{name}.pdf").read_bytes().startswith(b"%PDF-")
        assert ET.parse(figures / f"{name}.svg").getroot().tag == f"{SVG}svg"
    assert "gap.pdf" in done.stdout and "tables.tex" in done.stdout


def test_figures_carry_axis_titles_and_the_heatmap_a_colour_bar(
        reported: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    """SVG keeps text as text: the titles can be read back from the files."""
    figures, _ = reported
    pairs = texts(ET.parse(figures / "pairs.svg").getroot())
    for title in ("seat A (opens)", "seat B (answers)", "mean weighted score", "referee protocol", "paper protocol"):
        assert title in pairs
    assert "0.58 ± 0.43" in pairs and "paper 0.50 ± 0.04" in pairs, "cells print mean ± CI, and the paper's value"
    gap = texts(ET.parse(figures / "gap.svg").getroot())
    assert {"player", "mean weighted score", "homogeneous pair", "solo, full map"} <= set(gap)
    assert "gap +0.25 ± 0.28" in gap
    relay = texts(ET.parse(figures / "relay.svg").getroot())
    assert {"K: messages written before the hand-over", "mean weighted score"} <= set(relay)
    assert "K = 0 (no relay): gpt-4.1-mini + gpt-4.1-mini" in relay


def test_heatmap_has_a_colour_bar_over_every_mean(analysis: Analysis) -> None:
    figure = pair_heatmap(analysis)
    assert figure is not None
    *panels, bar = figure.axes
    assert [ax.get_title() for ax in panels] == ["paper protocol", "referee protocol"]
    assert bar.get_ylabel() == "mean weighted score"
    low, high = bar.get_ylim()
    means = [c.weighted.mean for c in analysis.cells if c.condition == "pair" and c.weighted.mean is not None]
    assert low <= min(means) and max(means) <= high


def test_axes_grow_to_hold_every_interval(analysis: Analysis) -> None:
    """A CI past 1 or below 0 widens the axis; nothing is drawn beyond it."""
    gap = gap_chart(analysis)
    relay = relay_chart(analysis)
    assert gap is not None and relay is not None
    estimates = [e for g in analysis.gaps for e in (g.solo, g.pair)]
    low, high = gap.axes[0].get_ylim()
    assert all(low <= (e.mean or 0) - (e.ci95 or 0) and (e.mean or 0) + (e.ci95 or 0) <= high for e in estimates)
    assert high > 1.0, "the solo cell's interval reaches past a score of 1"
    points = [p.weighted for c in analysis.relay_curves for p in c.points]
    low, high = relay.axes[0].get_ylim()
    assert low < 0 and all(low <= (e.mean or 0) - (e.ci95 or 0) and (e.mean or 0) + (e.ci95 or 0) <= high
                           for e in points)


def test_relay_chart_marks_the_k0_reference(analysis: Analysis) -> None:
    """K = 0: the players who finish (gpt-4.1-mini in both seats) play the whole game, a dashed line."""
    figure = relay_chart(analysis)
    assert figure is not None
    ax = figure.axes[0]
    baseline = analysis.cell("pair", MINI.name, MINI.name)
    assert baseline is not None and baseline.weighted.mean is not None
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    mean = baseline.weighted.mean
    assert [tuple(np.asarray(line.get_ydata())) for line in dashed] == [(mean, mean)]
    assert ax.get_xlim()[0] < 0 < 2 and ax.get_xlabel() == "K: messages written before the hand-over"


def test_figures_are_byte_for_byte_reproducible(analysis: Analysis, tmp_path: Path) -> None:
    first = write_figures(analysis, tmp_path / "first")
    second = write_figures(analysis, tmp_path / "second")
    assert [p.name for p in first] == [p.name for p in second] and len(first) == 9
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_report_page_names_the_stored_run_and_its_settings(
        reported: tuple[Path, subprocess.CompletedProcess[str]], run_dir: Path) -> None:
    page = (run_dir / "report" / "report.html").read_text()
    assert f"collabgap report: {RUN}" in page
    assert f"<dt>run</dt><dd>{RUN}: finished, 18 episodes stored</dd>" in page
    assert "<dt>started</dt><dd>20" in page and "UTC</dd>" in page
    assert "<dt>conditions</dt><dd>pair (paper): 3 episodes, pair (referee): 6 episodes, pair relay primer " \
           "(referee): 6 episodes, solo-full (referee): 3 episodes</dd>" in page
    assert "3 mazes; 3×3, wall density 0.30" in page
    assert '&quot;repetitions&quot;: 1' in page, "the run's stored settings, folded"
    for name in ("pairs", "gap", "relay"):
        assert f'<svg id="figure-{name}"' in page


def test_an_unknown_format_names_the_accepted_ones(run_dir: Path, tmp_path: Path) -> None:
    done = subprocess.run([*COLLABGAP, "report", str(run_dir), "--out", str(tmp_path / "report"), "--figures",
                           str(tmp_path / "figures"), "--format", "png,jpg"], capture_output=True, text=True,
                          timeout=300)
    message = " ".join(done.stderr.split())  # the console wraps long lines
    assert done.returncode == 2
    assert "figure format jpg is not one we write" in message and "png, svg, pdf" in message
    assert not (tmp_path / "figures").exists() and not (tmp_path / "report").exists(), "refused before any work"
