"""Read one side of a comparison from git objects: no checkout, no clone.

`sglint diff` checks the repository as it was at a commit. Only the files sglint reads
(Terraform, tfvars, YAML and JSON for the Calico profile, config files, and the files beside
a module that `file()` and `templatefile()` may read) are taken from the commit's tree (`git
ls-tree`) and their blobs streamed with one `git cat-file --batch` into a private temporary
directory; nothing else of the repository is written. The parse cache is
keyed by content, so every file the change did not touch is a cache hit.

Input is hostile (a fork's pull request): git runs with no pager, no external diff, no
textconv and no optional locks; tree paths that would leave the directory (`..`, absolute,
`.git`) are refused; a symlink is written only when it resolves inside the directory (a
shared `providers.tf` or a modules directory linked into each environment), never one that
could point anywhere on the runner; submodules are skipped; a blob larger than what sglint
would read is cut just past that limit, so the reader reports it as too large, exactly as on
the working tree.
"""

from __future__ import annotations

import os
import posixpath
import subprocess
import threading
from dataclasses import dataclass
from typing import IO, AbstractSet, Callable, Iterable, Sequence

from calico_sglint.profile.observations import VARS_DIRS, VARS_SUFFIXES, YAML_SUFFIXES
from calico_sglint.source import InputError
from calico_sglint.terraform.parse import MAX_FILE_BYTES

TERRAFORM_SUFFIXES = (".tf", ".tfvars")
CONFIG_NAMES = ("pyproject.toml",)  # .sglint.yaml is YAML
BESIDE_DEPTH = 2  # templates/ or files/user-data/ below a module
MAX_BESIDE = 1024 * 1024  # a template larger than this is not one
_REGULAR_MODES = ("100644", "100755")
_SYMLINK_MODE = "120000"
_GIT_ENV = {"GIT_PAGER": "cat", "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
_GIT_UNSET = ("GIT_EXTERNAL_DIFF", "GIT_DIFF_OPTS")


def _git_env() -> dict[str, str]:
    """The environment git runs in: no pager, prompt, optional locks or external diff."""
    return {**{k: v for k, v in os.environ.items() if k not in _GIT_UNSET}, **_GIT_ENV}


@dataclass(frozen=True)
class TreeFile:
    """A regular file of a commit's tree: its path in the repository and its blob."""

    path: str  # relative to the repository root, forward slashes
    blob: str
    link: bool = False  # a symlink: the blob holds its target


def git(repo: str, *args: str, stdin: bytes | None = None) -> bytes:
    """Run git in `repo` and return its stdout; `InputError` (exit 2) naming the command and
    git's first line of complaint when it fails."""
    env = _git_env()
    try:
        done = subprocess.run(
            ["git", "--no-pager", "-c", "core.quotepath=off", *args], cwd=repo, input=stdin,
            capture_output=True, env=env, check=False,
        )
    except OSError as err:
        raise InputError(f"cannot run git: {err.strerror or err}") from None
    if done.returncode != 0:
        complaint = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(f"git {args[0]} failed: {complaint[0] if complaint else f'exit {done.returncode}'}")
    return done.stdout


def toplevel(directory: str) -> str:
    """The root of the git working tree holding `directory`."""
    try:
        out = git(directory, "rev-parse", "--show-toplevel")
    except InputError:
        raise InputError("sglint diff needs a git repository; this directory is not in one", directory) from None
    return os.path.realpath(out.decode("utf-8").strip())


def resolve(repo: str, ref: str) -> str:
    """The commit `ref` names (a branch, tag, sha, `HEAD~1`, `origin/main`)."""
    if not ref or ref.startswith("-"):
        raise InputError(f"{ref!r} is not a git revision")
    try:
        out = git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    except InputError:
        raise InputError(f"unknown git revision {ref!r} (fetch it first, e.g. git fetch origin {ref})") from None
    return out.decode("ascii").strip()


def merge_base(repo: str, base: str, head: str) -> str:
    """The best common ancestor of two commits: where a branch forked from `base`."""
    try:
        return git(repo, "merge-base", base, head).decode("ascii").strip()
    except InputError:
        raise InputError(f"{base[:7]} and {head[:7]} have no common ancestor (fetch more history?)") from None


def changed_files(repo: str, base: str, head: str | None) -> tuple[str, ...]:
    """Repository paths that differ between `base` and `head` (None: the working tree,
    untracked files included), both names of a renamed file."""
    args = ["diff", "--name-only", "-z", "--no-renames", "--no-ext-diff", "--no-textconv", base]
    names = _split(git(repo, *args, *([head] if head else [])))
    if head is None:
        names += _split(git(repo, "ls-files", "--others", "--exclude-standard", "-z"))
    return tuple(sorted(set(names)))


def tree_files(repo: str, commit: str) -> list[TreeFile]:
    """The files of `commit` sglint may read: by name (`is_read`), files beside a module
    (`beside`: templates that `file()` and `templatefile()` read), and every symlink (to a
    file or a directory); submodules left out."""
    entries, sizes = [], {}
    for record in _split(git(repo, "ls-tree", "-r", "-z", "-l", "--full-tree", commit)):
        meta, _, path = record.partition("\t")
        mode, kind, blob, size = meta.split()
        if kind != "blob" or not safe_path(path):
            continue
        if mode == _SYMLINK_MODE:
            entries.append(TreeFile(path, blob, link=True))
        elif mode in _REGULAR_MODES:
            entries.append(TreeFile(path, blob))
            sizes[path] = int(size)
    modules = module_dirs(entries)
    return [e for e in entries if e.link or is_read(e.path) or (sizes[e.path] <= MAX_BESIDE and beside(e.path, modules))]


def module_dirs(files: Iterable[TreeFile]) -> frozenset[str]:
    """The directories holding Terraform files ("" for the top)."""
    return frozenset(posixpath.dirname(f.path) for f in files if f.path.endswith(".tf"))


def beside(path: str, dirs: AbstractSet[str]) -> bool:
    """Whether `path` is in one of `dirs` or at most BESIDE_DEPTH directories below one (a
    module's `templates/`), not below a hidden directory."""
    return module_of(path, dirs) is not None


def module_of(path: str, dirs: AbstractSet[str]) -> str | None:
    """The nearest of `dirs` holding `path`, at most BESIDE_DEPTH directories up, not
    through a hidden directory; None when there is none."""
    directory = posixpath.dirname(path)
    for _ in range(BESIDE_DEPTH + 1):
        if directory in dirs:
            return directory
        if not directory or posixpath.basename(directory).startswith("."):
            return None
        directory = posixpath.dirname(directory)
    return None


def is_read(path: str) -> bool:
    """Whether sglint reads a file by this name: Terraform, YAML, config, Ansible variables."""
    parts = path.split("/")
    name = parts[-1]
    suffix = os.path.splitext(name)[1].lower()
    if name.endswith(TERRAFORM_SUFFIXES) or suffix in YAML_SUFFIXES or name in CONFIG_NAMES:
        return True
    in_vars = any(part in VARS_DIRS or part == "inventory" for part in parts[:-1])
    return in_vars and suffix in VARS_SUFFIXES


def safe_path(path: str) -> bool:
    """A relative path that stays inside the directory it is written to."""
    parts = path.split("/")
    return not path.startswith("/") and all(p not in ("", ".", "..") and p.lower() != ".git" for p in parts)


class Snapshot:
    """A commit's files that sglint reads, written on demand under a private directory
    (with an empty `.git`, so its top is the repository root for config and profile
    lookups). Stateful by design: `sglint diff` writes what one side needs, then more when
    that side's modules call directories it did not write yet."""

    def __init__(self, repo: str, commit: str, directory: str) -> None:
        self.repo, self.commit = repo, commit
        self.files = tree_files(repo, commit)
        self.module_dirs = module_dirs(self.files)
        self.written: set[str] = set()
        os.makedirs(os.path.join(directory, ".git"), mode=0o700, exist_ok=True)
        self.root = os.path.realpath(directory)

    def callers(self, test: Callable[[bytes], bool]) -> frozenset[str]:
        """The directories with a Terraform file whose content passes `test` (one that may
        call a module), read without writing anything."""
        terraform = [f for f in self.files if f.path.endswith(".tf") and not f.link]
        return frozenset(posixpath.dirname(p) for p in blobs_matching(self.repo, terraform, test))

    def write(self, wanted: Callable[[str], bool]) -> int:
        """Write the files not written yet whose repository path is `wanted`, every symlink
        (few, and a linked directory may hold modules) and the files they point to; how
        many."""
        todo = [f for f in self.files if f.path not in self.written and (f.link or wanted(f.path))]
        write_blobs(self.repo, todo, self.root)
        self.written.update(f.path for f in todo)
        self._drop_escaping_links()
        targets = {link_target(f.path, os.readlink(os.path.join(self.root, f.path))) for f in todo if f.link
                   if os.path.islink(os.path.join(self.root, f.path))}
        more = self.write(lambda path: path in targets) if targets - self.written else 0
        return len(todo) + more

    def _drop_escaping_links(self) -> None:
        """Remove every symlink that resolves outside the directory, checked on the real file
        system once all are written (a later link can redirect an earlier one)."""
        links = [os.path.join(self.root, f.path) for f in self.files if f.link and f.path in self.written]
        changed = True
        while changed:
            changed = False
            for link in links:
                if os.path.islink(link) and os.path.commonpath([self.root, os.path.realpath(link)]) != self.root:
                    os.unlink(link)
                    changed = True


def write_blobs(repo: str, files: Sequence[TreeFile], directory: str) -> None:
    """Stream the blobs of `files` from one `git cat-file --batch` into `directory`."""
    _cat(repo, files, lambda stdout, file, size: _copy_blob(stdout, file, size, directory))


def blobs_matching(repo: str, files: Sequence[TreeFile], test: Callable[[bytes], bool]) -> set[str]:
    """The paths of `files` whose content passes `test` (read, not written; each blob is
    held only while it is tested, cut past the reader's limit)."""
    found: set[str] = set()

    def check(stdout: IO[bytes], file: TreeFile, size: int) -> None:
        data = stdout.read(min(size, MAX_FILE_BYTES + 1))
        left = size - len(data)
        while left > 0:  # the rest of a huge blob, not kept
            chunk = stdout.read(min(left, 1 << 20))
            if not chunk:
                raise InputError(f"git cat-file: {file.path} ended early")
            left -= len(chunk)
        if test(data):
            found.add(file.path)

    _cat(repo, files, check)
    return found


def _cat(repo: str, files: Sequence[TreeFile], handle: Callable[[IO[bytes], TreeFile, int], None]) -> None:
    """One `git cat-file --batch` over `files`: `handle` reads each blob's `size` bytes."""
    if not files:
        return
    with subprocess.Popen(
        ["git", "cat-file", "--batch"], cwd=repo, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, env=_git_env(),
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        feeder = threading.Thread(target=_feed, args=(process.stdin, (f.blob for f in files)), daemon=True)
        feeder.start()
        try:
            for file in files:
                header = process.stdout.readline().decode("ascii", "replace").split()
                if len(header) != 3 or header[1] != "blob":
                    raise InputError(f"git cat-file: cannot read {file.path} ({' '.join(header) or 'no output'})")
                handle(process.stdout, file, int(header[2]))
                process.stdout.read(1)  # the newline after each blob
        finally:
            feeder.join()
    if process.returncode:
        raise InputError(f"git cat-file failed (exit {process.returncode})")


def _feed(stdin: IO[bytes], blobs: Iterable[str]) -> None:
    try:
        for blob in blobs:
            stdin.write(blob.encode("ascii") + b"\n")
        stdin.close()
    except OSError:  # git stopped reading: the reader reports it
        pass


def link_target(path: str, target: str) -> str:
    """The repository path a symlink at `path` names (lexically)."""
    return posixpath.normpath(posixpath.join(posixpath.dirname(path), target))


def _copy_blob(stdout: IO[bytes], file: TreeFile, size: int, directory: str) -> None:
    target = os.path.join(directory, *file.path.split("/"))
    os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
    if file.link:
        _make_link(stdout.read(size), target)
        return
    keep = MAX_FILE_BYTES + 1  # past the reader's limit: it refuses the file as too large
    with open(target, "wb") as handle:
        left = size
        while left:
            chunk = stdout.read(min(left, 1 << 20))
            if not chunk:
                raise InputError(f"git cat-file: {file.path} ended early")
            if keep > 0:
                handle.write(chunk[:keep])
                keep -= len(chunk)
            left -= len(chunk)


def _make_link(data: bytes, path: str) -> None:
    """A symlink at `path` to the relative target `data` (`Snapshot.write` then removes
    every link that resolves outside its directory)."""
    target = data.decode("utf-8", "surrogateescape")
    if target and not os.path.isabs(target) and len(data) <= 4096:
        os.symlink(target, path)


def _split(output: bytes) -> list[str]:
    return [item for item in output.decode("utf-8", "surrogateescape").split("\0") if item]
