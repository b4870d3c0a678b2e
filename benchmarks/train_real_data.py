"""Where the real-world recipe (benchmarks/train_real.py) keeps its data, and laying it out:
step 1's mix of real videos and synthetic sequences, and the copies of it linked with depth
written for some sequences (the mixes of the depth-supervised phases), each made once.
"""
from __future__ import annotations

from dataclasses import dataclass
import os
from pathlib import Path
import subprocess
import sys


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from depth_ros.errors import ConfigError  # noqa: E402
from depth_ros.synth.world import DEFAULT_SUPERSAMPLE  # noqa: E402


SYNTH_SEEDS = {'81': 101, '82': 102, '83': 103, '84': 104}


@dataclass(frozen=True)
class Layout:
    """Where one recipe keeps its data and runs (`--work`, default runs/), and what every
    phase shares (`--override`, `--synth-size`, `--synth-supersample`, `--no-dev`)."""

    work: Path = ROOT / 'runs'
    overrides: tuple[str, ...] = ()
    synth_size: tuple[int, int] = (416, 128)
    dev: bool = True
    synth_supersample: int = DEFAULT_SUPERSAMPLE

    @property
    def mix(self) -> Path:
        return self.work / 'real_mix'

    @property
    def geo_mix(self) -> Path:
        return self.work / 'real_mix_geo'

    @property
    def teacher_mix(self) -> Path:
        return self.work / 'real_mix_teacher'

    def run(self, phase: str = '') -> Path:
        """The run folder of a phase: '' main, 'b' fine, 'sup' depth-supervised, 'teacher'
        teacher-supervised, 'c' pose."""
        return self.work / ('train_real' + (f'_{phase}' if phase else ''))

    def phase_overrides(self) -> tuple[str, ...]:
        extra = () if self.dev else ('data.val_sequences=[]', 'validate_every_epochs=0')
        return extra + self.overrides


DEFAULT_LAYOUT = Layout()


def prepare_data(layout: Layout = DEFAULT_LAYOUT) -> None:
    """Step 1: the real sequences and the synthetic ones, once (a sequence already in the mix
    is kept: a mix laid out elsewhere, benchmarks/pack_real_mix.py's, is used as it is)."""
    mix = layout.mix
    sources = [('real_mix.yaml', 'kitti_cgebbe')] + ([('real_dev.yaml', 'dev_0005')]
                                                      if layout.dev else [])
    for config, probe in sources:
        if not (mix / 'sequences' / probe).is_dir():
            run_command([sys.executable, '-m', 'training.data.prepare_mix',
                         str(ROOT / 'config' / config), '--out', str(mix), '--root', str(ROOT)])
    width, height = layout.synth_size
    workers = min(8, os.cpu_count() or 1)  # a GPU machine's cores render while it waits
    for sequence, seed in SYNTH_SEEDS.items():
        if not (mix / 'sequences' / sequence / 'image_2').is_dir():
            run_command([sys.executable, '-m', 'depth_ros.cli', 'synth', '--out', str(mix),
                         '--seed', str(seed), '--frames', '150', '--sequence', sequence,
                         '--width', str(width), '--height', str(height), '--no-progress',
                         '--supersample', str(layout.synth_supersample),
                         '--workers', str(workers)])


def depth_mix(mix: Path, layout: Layout, module: str, stamp: str,
              writes: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]) -> Path:
    """`layout.mix` linked into `mix`, then `python -m module OPTIONS --sequences SEQUENCES`
    writing depth there, once for each (options, sequences) of `writes` (in order: a later one
    may `--replace` what the mix linked); a DONE file (`stamp`) marks it finished, so it is made
    once.

    Raises:
        ConfigError: `mix` was finished for another stamp (another teacher or checkpoint).
    """
    import os
    import shutil

    done = mix / 'DONE'
    if done.is_file():
        made_for = done.read_text().strip()
        if made_for != stamp:
            raise ConfigError(f'{mix} holds depth made for {made_for!r}, not {stamp!r}: '
                              'remove it, or give another --work')
        return mix
    shutil.rmtree(mix, ignore_errors=True)
    # Folders copied, files linked: a depth folder written in `mix` replaces the folder of
    # links whole (training.data.depth_folders), never the files of `layout.mix` behind them.
    shutil.copytree(layout.mix, mix, copy_function=os.symlink)
    for options, sequences in writes:
        if sequences:
            run_command([sys.executable, '-m', module, '--root', str(mix), *options,
                         '--sequences', *sequences])
    done.write_text(f'{stamp}\n')
    return mix


def run_command(argv: list[str]) -> None:
    """Print `argv` (a step of the recipe) and run it in the repository root; a failure stops
    the recipe (`subprocess.CalledProcessError`)."""
    print('+', ' '.join(argv), flush=True)
    subprocess.run(argv, check=True, cwd=ROOT)
