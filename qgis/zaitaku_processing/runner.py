"""Finding the zaitaku program, checking its version and running it: progress from its
JSON lines (`--progress json` on stderr), other stderr lines kept as its messages,
cancellation by SIGTERM (zaitaku then removes its staging folder, as on Ctrl-C)."""
import json
import os
import queue
import shutil
import subprocess
import threading

# The oldest zaitaku this plugin can drive: `--progress json` and `capacity` came with it.
MIN_VERSION = (0, 2, 0)
# The Processing setting (Options > Providers > zaitaku) holding the program's path.
BINARY_SETTING = "ZAITAKU_BINARY"


class ZaitakuError(Exception):
    """zaitaku is missing, too old, or ended with an error (its message is the text)."""


class Cancelled(ZaitakuError):
    """The user cancelled; zaitaku was stopped."""


def find_binary(configured=""):
    """The configured path, else ZAITAKU_BINARY from the environment, else `zaitaku` on PATH."""
    candidates = [configured, os.environ.get("ZAITAKU_BINARY", ""), shutil.which("zaitaku") or ""]
    for path in candidates:
        if path:
            if os.path.isfile(path) and os.access(path, os.X_OK):
                return path
            raise ZaitakuError(
                f"zaitaku was not found at {path}: set the zaitaku program in Processing > Options > "
                "Providers > zaitaku, or put zaitaku on PATH"
            )
    raise ZaitakuError(
        "zaitaku was not found: set the zaitaku program in Processing > Options > Providers > zaitaku, "
        "or put zaitaku on PATH (build it with `cargo install --path .` in the zaitaku repository)"
    )


def check_version(path):
    """The version of the zaitaku at PATH; an error when it is not zaitaku or too old."""
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60)
    except OSError as e:
        raise ZaitakuError(f"{path} cannot be run: {e}") from e
    words = done.stdout.split()
    if done.returncode != 0 or len(words) != 2 or words[0] != "zaitaku":
        raise ZaitakuError(f"{path} is not zaitaku (--version said: {(done.stdout or done.stderr).strip()})")
    try:
        version = tuple(int(x) for x in words[1].split("-")[0].split(".")[:3])
    except ValueError as e:
        raise ZaitakuError(f"{path}: cannot read the version '{words[1]}'") from e
    if version < MIN_VERSION:
        need = ".".join(map(str, MIN_VERSION))
        raise ZaitakuError(f"zaitaku {words[1]} at {path} is too old for this plugin: it needs {need} or later")
    return words[1]


def run(path, args, on_progress, on_message, is_cancelled, poll_s=0.1):
    """Runs `zaitaku --progress json ARGS`. on_progress(dict) for each progress line,
    on_message(text) for every other stderr line; is_cancelled() is polled. Returns stdout.
    Raises Cancelled after stopping zaitaku, or ZaitakuError with zaitaku's own message."""
    proc = subprocess.Popen(
        [path, "--progress", "json", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        encoding="utf-8",
        errors="replace",
    )
    lines = queue.Queue()

    def pump(stream, tag):
        for line in stream:
            lines.put((tag, line.rstrip("\n")))
        lines.put((tag, None))

    readers = [
        threading.Thread(target=pump, args=(proc.stdout, "out"), daemon=True),
        threading.Thread(target=pump, args=(proc.stderr, "err"), daemon=True),
    ]
    for t in readers:
        t.start()
    try:
        return _follow(proc, lines, readers, on_progress, on_message, is_cancelled, poll_s)
    finally:
        for stream in (proc.stdout, proc.stderr):
            stream.close()


def _follow(proc, lines, readers, on_progress, on_message, is_cancelled, poll_s):
    """Reads zaitaku's lines until it ends; see `run`."""
    out, errors, open_streams = [], [], 2
    while open_streams:
        if is_cancelled():
            proc.terminate()  # SIGTERM: zaitaku removes its staging folder and ends
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            for t in readers:
                t.join(timeout=5)
            raise Cancelled("cancelled: zaitaku was stopped and its output folder left as it was")
        try:
            tag, line = lines.get(timeout=poll_s)
        except queue.Empty:
            continue
        if line is None:
            open_streams -= 1
            continue
        if tag == "out":
            out.append(line)
            continue
        if line.startswith("{"):
            try:
                state = json.loads(line)
            except ValueError:
                state = None
            if isinstance(state, dict) and "stage" in state:
                on_progress(state)
                continue
        if line.strip():
            errors.append(line)
            on_message(line)
    code = proc.wait()
    for t in readers:
        t.join(timeout=5)
    if code != 0:
        raise ZaitakuError("\n".join(errors) or f"zaitaku ended with exit code {code}")
    return "\n".join(out)


def percent(state):
    """The percent done of a progress state, None for a stage of unknown length."""
    total = state.get("total")
    if not total:
        return None
    return 100.0 * min(state.get("done", 0), total) / total
