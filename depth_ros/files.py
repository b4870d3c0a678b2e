"""Files written whole or not at all: a temporary file beside the target, moved over it when
complete (weights, ONNX graphs, TensorRT engines)."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
import os
from pathlib import Path

from depth_ros.errors import OutputError


@contextmanager
def replaced_whole(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path` to write the file to; when the block succeeds it
    replaces `path` in one step, when it fails it is removed and `path` stays as it was.

    The file gets the permissions a newly created file of this process gets (its umask), also
    when the writer sets its own (safetensors writes 0600: a package installed by one user and
    run by another could not read its weights).

    Raises:
        OutputError: the folder cannot be created or the file not written or moved into place.
    """
    path = Path(path)
    tmp = path.with_name(f'.{path.name}.{os.getpid()}.tmp')
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, 'wb'):  # created as any new file: its mode is the one to keep
            pass
        mode = tmp.stat().st_mode & 0o777
    except OSError as exc:
        _remove(tmp)
        raise OutputError(f'cannot write {path}: {exc.strerror or exc}') from None
    try:
        yield tmp
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        raise OutputError(f'cannot write {path}: {exc.strerror or exc}') from None
    finally:
        _remove(tmp)


def _remove(tmp: Path) -> None:
    try:
        tmp.unlink(missing_ok=True)
    except OSError:  # its folder is not there or not a folder: nothing was left
        pass
