"""Data directory resolution and atomic, checksummed downloads.

The data directory is, in order of precedence, the ``data_dir`` argument, the
``CONN2RNN_DATA`` environment variable, or ``~/conn2rnn_data``. Files live at
``<data_dir>/<folder>/<file>`` (see :mod:`conn2rnn.datasets.registry`).

A file already in the cache is used without any network access when its sha256
matches the pinned one. Otherwise it is downloaded to a temporary file in the
same folder, its size and sha256 are verified, and only then is it moved to its
final path with :func:`os.replace` (atomic), so a failed, interrupted or
corrupt transfer never leaves a file at the final path.

Downloads come from the pinned URL, or from a mirror laid out like the data
directory when a base URL is given (``base_url`` argument, else the
``CONN2RNN_DATA_URL`` environment variable): ``<base_url>/<folder>/<file>``.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
import warnings
from pathlib import Path

from .._io import write_atomic
from .registry import RemoteFile

__all__ = [
    "DATA_ENV",
    "URL_ENV",
    "DataNotFoundError",
    "DataIntegrityError",
    "get_data_dir",
    "resolve_url",
    "sha256sum",
    "download",
    "fetch_file",
    "write_bytes_atomic",
]

DATA_ENV = "CONN2RNN_DATA"
URL_ENV = "CONN2RNN_DATA_URL"
_CHUNK = 1 << 16
_PROGRESS_MIN_BYTES = 5_000_000
_FILE_MODE = 0o644  # mkstemp creates 0o600 files


class DataNotFoundError(FileNotFoundError):
    """A data file is neither in the cache nor obtainable from its source."""


class DataIntegrityError(OSError):
    """A downloaded or extracted file does not have the expected content."""


def get_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """Folder that caches downloaded data.

    Parameters
    ----------
    data_dir : str or path-like, optional
        Explicit folder. When None, the ``CONN2RNN_DATA`` environment variable is
        used, else ``~/conn2rnn_data``.

    Returns
    -------
    Path
        Absolute path (``~`` expanded); the folder need not exist yet.
    """
    if data_dir is None:
        data_dir = os.environ.get(DATA_ENV) or Path.home() / "conn2rnn_data"
    if not isinstance(data_dir, (str, os.PathLike)):
        raise TypeError(
            f"data_dir must be a str or path-like folder, or None; got "
            f"{type(data_dir).__name__}"
        )
    return Path(data_dir).expanduser().absolute()


def resolve_url(relpath: str, url: str | None, base_url: str | None = None) -> str | None:
    """URL a file is downloaded from.

    Parameters
    ----------
    relpath : str
        ``"<folder>/<file>"`` relative to the data directory.
    url : str or None
        Pinned URL of the file.
    base_url : str, optional
        Mirror laid out like the data directory; when None, the
        ``CONN2RNN_DATA_URL`` environment variable, if set.

    Returns
    -------
    str or None
        ``<base_url>/<relpath>`` when a mirror is set, else ``url``.
    """
    base = base_url if base_url is not None else os.environ.get(URL_ENV)
    if base:
        return f"{base.rstrip('/')}/{relpath}"
    return url


def sha256sum(path: str | os.PathLike) -> str:
    """sha256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _supply_hint(dest: Path, url: str | None, sha256: str | None) -> str:
    where = f"download it from {url} and " if url else "obtain it and "
    check = f" (sha256 {sha256})" if sha256 else ""
    return (
        f"To supply it by hand, {where}put it at {dest}{check}; or pass data_dir= "
        f"(or set the {DATA_ENV} environment variable) to a folder that already "
        f"holds {dest.parent.name}/{dest.name}; or set base_url= (or "
        f"{URL_ENV}) to a reachable mirror laid out like the data folder."
    )


def _progress(total: int | None, name: str):
    if total is None or total < _PROGRESS_MIN_BYTES:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, desc=name, leave=False)


def _stream(response, fh, name: str) -> tuple[int, str, int | None]:
    """Copy a response body to ``fh``; returns (bytes read, sha256, Content-Length)."""
    header = response.headers.get("Content-Length")
    expected = int(header) if header is not None and header.isdigit() else None
    digest = hashlib.sha256()
    n_read = 0
    bar = _progress(expected, name)
    try:
        while True:
            chunk = response.read(_CHUNK)
            if not chunk:
                break
            fh.write(chunk)
            digest.update(chunk)
            n_read += len(chunk)
            if bar is not None:
                bar.update(len(chunk))
    finally:
        if bar is not None:
            bar.close()
    return n_read, digest.hexdigest(), expected


def download(
    url: str,
    dest: str | os.PathLike,
    *,
    sha256: str | None = None,
    size: int | None = None,
    timeout: float = 30.0,
) -> Path:
    """Download ``url`` to ``dest`` atomically, verifying size and checksum.

    The body goes to a temporary file in ``dest``'s folder, which replaces
    ``dest`` (:func:`os.replace`) only once complete and verified; on any error
    the temporary file is removed and ``dest`` is left as it was.

    Parameters
    ----------
    url : str
        Source URL (``http``, ``https`` or ``file``).
    dest : str or path-like
        Final path; parent folders are created.
    sha256 : str, optional
        Expected sha256 hex digest; None skips the check (for archives whose
        bytes are not stable; verify their content instead).
    size : int, optional
        Expected size in bytes.
    timeout : float
        Socket timeout in seconds.

    Returns
    -------
    Path
        ``dest``.

    Raises
    ------
    DataNotFoundError
        The source cannot be reached, answers with an error, or the transfer is
        interrupted (fewer bytes than announced).
    DataIntegrityError
        The received size or sha256 differs from the expected one.
    """
    dest = Path(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    except OSError as exc:
        raise DataNotFoundError(
            f"Cannot write {dest.name} into {dest.parent}: {exc}. Choose a writable "
            f"data folder with data_dir= or the {DATA_ENV} environment variable."
        ) from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            try:
                request = urllib.request.Request(url, headers={"User-Agent": "conn2rnn"})
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    n_read, digest, announced = _stream(response, fh, dest.name)
            except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
                raise DataNotFoundError(
                    f"Could not download {dest.name} from {url}: {exc}. "
                    + _supply_hint(dest, url, sha256)
                ) from exc
        if announced is not None and n_read != announced:
            raise DataNotFoundError(
                f"Download of {dest.name} from {url} was interrupted: received "
                f"{n_read} of {announced} bytes. Try again. " + _supply_hint(dest, url, sha256)
            )
        if size is not None and n_read != size:
            raise DataIntegrityError(
                f"{dest.name} from {url} has {n_read} bytes; expected {size}. The source "
                "changed or the transfer was corrupted; nothing was written to "
                f"{dest}. " + _supply_hint(dest, url, sha256)
            )
        if sha256 is not None and digest != sha256:
            raise DataIntegrityError(
                f"{dest.name} from {url} has sha256 {digest}; expected {sha256}. The "
                f"source changed or the transfer was corrupted; nothing was written to "
                f"{dest}. " + _supply_hint(dest, url, sha256)
            )
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def fetch_file(
    entry: RemoteFile,
    data_dir: str | os.PathLike | None = None,
    *,
    base_url: str | None = None,
    timeout: float = 30.0,
) -> Path:
    """Path of a pinned file in the cache, downloading it when needed.

    Parameters
    ----------
    entry : RemoteFile
        Registry entry (:mod:`conn2rnn.datasets.registry`).
    data_dir : str or path-like, optional
        Data folder (see :func:`get_data_dir`).
    base_url : str, optional
        Mirror laid out like the data folder (see :func:`resolve_url`).
    timeout : float
        Socket timeout in seconds.

    Returns
    -------
    Path
        ``<data_dir>/<entry.relpath>``, whose sha256 equals ``entry.sha256``.

    Raises
    ------
    DataNotFoundError
        The file is not cached (or cached but corrupt) and cannot be downloaded;
        the message names the file, the URL and how to supply it.
    DataIntegrityError
        The downloaded file does not match the pinned size or checksum.
    """
    dest = get_data_dir(data_dir) / entry.relpath
    if dest.is_file():
        found = sha256sum(dest)
        if found == entry.sha256:
            return dest
        warnings.warn(
            f"Cached {dest} has sha256 {found}, expected {entry.sha256} (corrupt or "
            "modified); downloading it again.",
            RuntimeWarning,
            stacklevel=2,
        )
    url = resolve_url(entry.relpath, entry.url, base_url)
    if url is None:
        raise DataNotFoundError(
            f"{entry.relpath} is not in {dest.parent} and has no download URL. "
            + _supply_hint(dest, None, entry.sha256)
        )
    return download(url, dest, sha256=entry.sha256, size=entry.size, timeout=timeout)


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (:func:`conn2rnn._io.write_atomic`), mode 0o644."""
    return write_atomic(path, data, mode=_FILE_MODE)
