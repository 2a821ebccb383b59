"""`myna-reader doctor`: what a technician checks first, one line per check, each with its fix.

Checks read the machine and the config; they create and rewrite nothing, so `sudo myna-reader
doctor` leaves no root-owned file where the service writes (tests/field/test_doctor_as_root.py).
Every problem is reported, not only the first: one line per bad config key, and a check that
crashes is itself a FAIL line (the doctor must answer on a broken machine). Imports that can
take the process down (onnxruntime on a CPU it was not built for) run in a child process.
Nothing personal is printed: readers by name, the passcode only as provisioned or not.
"""

from __future__ import annotations

import glob
import logging
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from myna_reader.daemon.runtime.checks import Check, config_checks
from myna_reader.daemon.runtime.checks import fail as _fail
from myna_reader.daemon.runtime.checks import ok as _ok
from myna_reader.daemon.runtime.config import DaemonConfig
from myna_reader.daemon.version import __version__
from myna_reader.drivers.readers import parse_spec

log = logging.getLogger(__name__)

SERVICE_USER = "myna-reader"
INSTALL_CURRENT = Path("/opt/myna-reader/current")
DRM_CONNECTORS = "/sys/class/drm/card*-*"
ASOUND_CARDS = Path("/proc/asound/cards")
INPUT_EVENTS = "/sys/class/input/event*"
# where install.sh, the .deb and a technician's drop-ins put the units (the last one wins)
UNIT_DIRS = (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system"),
             Path("/etc/systemd/system"))
UNITS = ("myna-reader.service", "myna-reader-cage.service")
UNIT_DEFAULT_DRIVER = "kmsdrm"  # systemd/myna-reader.service
IMPORT_TIMEOUT_S = 120.0
ABS_MT_POSITION_X = 0x35  # linux/input-event-codes.h: a multi-touch panel reports it


def check_version(root: Path = INSTALL_CURRENT.parents[2]) -> Check:
    """The running version, its release, and the last update (FAIL: one left unconfirmed)."""
    from myna_reader.daemon.update.install import Layout, load_state

    layout = Layout(root)
    current = layout.current.resolve() if layout.current.is_symlink() else None
    where = f" (release {current})" if current else " (not run from an installed release)"
    state = load_state(layout)
    pending, last = state["pending"], state["last"]
    if pending:
        return _fail("version", f"myna-reader {__version__}{where}; the update to "
                     f"{pending['version']} was not confirmed (the installer was interrupted)",
                     "run the update install again, or: myna-reader update rollback")
    update = f"; last update: {last['action']} {last['outcome']} {last['version'] or ''} " \
        f"{last['time']}" if last else ""
    return _ok("version", f"myna-reader {__version__}{where}{update}")


def _pcsc_readers() -> list[str]:
    from myna_reader.drivers.backends.pcsc import list_readers

    return list_readers()


def check_pcscd(config: DaemonConfig) -> Check:
    from myna_reader.drivers.errors import MynaError

    try:
        readers = _pcsc_readers()
    except (MynaError, ImportError) as exc:
        if parse_spec(config.reader).backend != "pcsc":
            return _ok("pcscd", f"not reachable, not needed (reader is {config.reader})")
        return _fail("pcscd", f"not reachable ({exc})",
                     "sudo apt-get install pcscd && sudo systemctl enable --now pcscd.socket")
    return _ok("pcscd", f"reachable, {len(readers)} reader(s)")


def check_reader(config: DaemonConfig) -> Check:
    """The reader the config names is there now."""
    spec = parse_spec(config.reader)
    if spec.backend == "pcsc":
        try:
            readers = _pcsc_readers()
        except Exception as exc:  # noqa: BLE001  (reported as the failure itself)
            return _fail("reader", f"{spec}: no reader list ({exc})", "see the pcscd line")
        matching = [r for r in readers if spec.argument.lower() in r.lower()]
        if matching:
            return _ok("reader", f"{spec}: {matching[0]}")
        seen = ", ".join(readers) or "none"
        return _fail("reader", f"{spec}: no matching PC/SC reader (seen: {seen})",
                     "plug the reader in (check `lsusb`), or set `reader` to one seen")
    if spec.backend == "nfc":
        return _check_nfc_reader(str(spec), spec.argument)
    return _ok("reader", f"{spec}: a simulated or recorded reader (bench use, not a counter)")


def _check_nfc_reader(spec: str, path: str) -> Check:
    kind, _, rest = path.partition(":")
    if kind == "tty":
        device = Path(f"/dev/tty{rest.split(':')[0]}")
        if device.exists():
            return _ok("reader", f"{spec}: {device} present")
        return _fail("reader", f"{spec}: {device} does not exist",
                     "check the PN532 wiring or adapter, and `ls /dev/tty*`")
    if kind == "usb":
        from myna_reader.daemon.runtime.hotplug import DeviceKind, present_devices

        found = [d for d in present_devices() if d.kind is DeviceKind.NFC
                 and (not rest or d.usb_id == rest.lower())]
        if found:
            return _ok("reader", f"{spec}: {found[0].model} at {found[0].usb_id}")
        return _fail("reader", f"{spec}: no such NFC reader on USB",
                     "plug the reader in (check `lsusb`); RC-S300 is CCID: use reader = \"pcsc\"")
    return _ok("reader", f"{spec}: nfcpy's udp driver (bench use, not a counter)")


def check_nfc_devices() -> Check:
    from myna_reader.daemon.runtime.hotplug import DeviceKind, present_devices

    devices = [d for d in present_devices() if d.kind is not DeviceKind.CCID]
    if not devices:
        return _ok("nfc devices", "none on USB")
    return _ok("nfc devices", ", ".join(f"{d.model} {d.usb_id}" + (f" {d.dev_node}"
                                                                    if d.dev_node else "")
                                         for d in devices))


def _connected_modes() -> list[tuple[str, str]]:
    """(connector, preferred mode) of every connected DRM connector."""
    found = []
    for connector in sorted(glob.glob(DRM_CONNECTORS)):
        base = Path(connector)
        try:
            if (base / "status").read_text().strip() != "connected":
                continue
            modes = (base / "modes").read_text().split()
        except OSError:
            continue
        found.append((base.name, modes[0] if modes else "?"))
    return found


def check_display(config: DaemonConfig) -> Check:
    width, height = config.ui.size
    wanted = f"{width}x{height}"
    connected = _connected_modes()
    if not connected:
        return _fail("display", "no connected KMS/DRM display",
                     "enable KMS (dtoverlay=vc4-kms-v3d in /boot/firmware/config.txt), "
                     "connect the panel, reboot")
    name, mode = connected[0]
    # a portrait panel may report its native landscape mode: compare the set of sides
    if sorted(mode.split("x")) != sorted(wanted.split("x")):
        return _fail("display", f"{name} runs {mode}, config says ui.size = {wanted}",
                     f'set ui.size = "{mode}" if the panel supports it, or fix the panel mode')
    return _ok("display", f"{name} {mode}")


def sdl_video_drivers() -> tuple[str, list[str]]:
    """The version and video drivers of the SDL that pygame loaded (pygame-ce's own copy, or
    the system's libSDL2 behind Debian's pygame), asked through SDL's own API."""
    import ctypes

    import pygame

    with open("/proc/self/maps", encoding="ascii", errors="replace") as maps:
        paths = {line.split()[-1] for line in maps if "libSDL2-2" in line or "libSDL2.so" in line}
    if not paths:
        raise OSError("pygame loaded no libSDL2 (no SDL video at all)")
    sdl = ctypes.CDLL(sorted(paths)[0])  # already loaded: the same library, not a second one
    sdl.SDL_GetVideoDriver.restype = ctypes.c_char_p
    sdl.SDL_GetVideoDriver.argtypes = [ctypes.c_int]
    names = [sdl.SDL_GetVideoDriver(i).decode() for i in range(sdl.SDL_GetNumVideoDrivers())]
    return ".".join(map(str, pygame.get_sdl_version())), names


def unit_video_drivers(dirs: Sequence[Path] = UNIT_DIRS) -> dict[str, str]:
    """unit -> the SDL_VIDEODRIVER it sets, for each installed myna-reader unit (drop-ins
    in the last of `dirs` included). None installed: the environment's, or the default."""
    found: dict[str, str] = {}
    for unit in UNITS:
        files = [d / unit for d in dirs if (d / unit).is_file()]
        if not files:
            continue
        files += sorted((dirs[-1] / f"{unit}.d").glob("*.conf"))
        for path in files:
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                for word in line.strip().removeprefix("Environment=").split():
                    if line.strip().startswith("Environment=") and \
                            word.strip('"').startswith("SDL_VIDEODRIVER="):
                        found[unit] = word.strip('"').split("=", 1)[1]
        found.setdefault(unit, UNIT_DEFAULT_DRIVER)
    if not found:
        found["this shell"] = os.environ.get("SDL_VIDEODRIVER", UNIT_DEFAULT_DRIVER)
    return found


def check_sdl_video(dirs: Sequence[Path] = UNIT_DIRS) -> Check:
    """The SDL pygame runs on has the video driver the unit asks for (KMSDRM on a Pi without
    a desktop: the PyPI pygame wheel lacks it, pygame-ce's and Debian's SDL have it)."""
    version, drivers = sdl_video_drivers()
    have = {d.lower() for d in drivers}
    wanted = unit_video_drivers(dirs)
    missing = {unit for unit, d in wanted.items() if d.lower() not in have}
    listed = f"SDL {version} drivers {', '.join(drivers)}"
    uses = "; ".join(f"{unit} uses {d}" + (", which this SDL lacks" if unit in missing else "")
                     for unit, d in wanted.items())
    if missing:
        return _fail("sdl video", f"{listed}; {uses}",
                     "install the release's pygame-ce (its SDL has KMSDRM and Wayland): "
                     "reinstall with systemd/install.sh or the .deb")
    return _ok("sdl video", f"{listed}; {uses}")


def _touch_devices() -> list[tuple[str, str]]:
    """(event node, name) of every input device that reports multi-touch positions."""
    found = []
    for event in sorted(glob.glob(INPUT_EVENTS)):
        base = Path(event) / "device"
        try:
            words = (base / "capabilities/abs").read_text().split()
            name = (base / "name").read_text().strip()
        except OSError:
            continue
        bits = int("".join(f"{int(w, 16):016x}" for w in words), 16) if words else 0
        if bits >> ABS_MT_POSITION_X & 1:
            found.append((Path(event).name, name))
    return found


def check_touch(config: DaemonConfig) -> Check:
    """A touch panel is there. SDL reads it through evdev (KMSDRM) or the compositor
    (libinput in cage); the UI maps touches through ui.rotation itself."""
    devices = _touch_devices()
    if not devices:
        return _fail("touch", "no touch panel among the input devices",
                     "connect the panel's touch (the DSI ribbon, or the USB cable of an HDMI "
                     "panel) and check `ls /sys/class/input`")
    shown = ", ".join(f"{name} ({node})" for node, name in devices)
    return _ok("touch", f"{shown}; touches mapped for rotation {config.ui.rotation}")


def check_font(config: DaemonConfig) -> Check:
    from myna_reader.ui.fonts import FontError, choose_fonts
    from myna_reader.ui.messages import load_messages

    texts = [t for messages in load_messages().values() for t in messages.all_texts()]
    if shutil.which("fc-list") is None and not config.ui.font_files:
        return _fail("font", "fontconfig is not installed, so no font can be found by name",
                     "sudo apt-get install fontconfig")
    try:
        chosen = choose_fonts([*texts, config.ui.facility_name], config.ui.fonts,
                              config.ui.font_files)
    except FontError as exc:
        return _fail("font", str(exc), "sudo apt-get install fonts-morisawa-bizud-gothic")
    return _ok("font", f"{chosen.family} covers every screen text")


def check_sound(config: DaemonConfig) -> Check:
    from myna_reader.daemon.engine import Cue
    from myna_reader.ui.sound import sounds_dir

    missing = [c.value for c in Cue if not (sounds_dir() / f"{c.value}.wav").is_file()]
    if missing:
        return _fail("sound", f"cue sounds missing: {', '.join(missing)}",
                     "reinstall the release (systemd/install.sh)")
    try:
        cards = ASOUND_CARDS.read_text().strip()
    except OSError:
        cards = ""
    if not cards or cards.startswith("--- no soundcards"):
        return _fail("sound", "no sound card", "enable audio (dtparam=audio=on in "
                     "/boot/firmware/config.txt) or plug in a USB speaker")
    first = cards.splitlines()[0].split(":", 1)[-1].strip()
    return _ok("sound", f"{len(list(Cue))} cue sounds; card {first}, volume {config.ui.volume}")


def check_voice(config: DaemonConfig) -> Check:
    if not config.ui.voice:
        return _ok("voice", "voice guidance is off (ui.voice = false)")
    from myna_reader.ui.voice_prompts import default_out, missing_prompts

    directory = Path(config.ui.voice_dir) if config.ui.voice_dir else default_out()
    missing = {lang.value: keys for lang, keys in missing_prompts(directory).items() if keys}
    if missing:
        counts = ", ".join(f"{len(keys)} {lang}" for lang, keys in missing.items())
        return _fail("voice", f"prompts missing in {directory}: {counts}",
                     f"python -m myna_reader.ui.make_voice --out {directory} --piper-venv DIR "
                     "(needs open-jtalk; Piper goes into the build-only venv DIR), "
                     "or set ui.voice = false")
    return _ok("voice", f"Japanese and English prompts in {directory}")


def check_link(config: DaemonConfig) -> Check:
    from myna_reader.daemon.link.transport import SerialEndpoint, redact_url

    endpoint = config.link.endpoint()
    shown = redact_url(config.link.url)
    if isinstance(endpoint, SerialEndpoint):
        if not endpoint.url.startswith("/"):
            return _ok("terminal link", f"{shown}: a pyserial URL (bench use)")
        try:
            mode = Path(endpoint.url).stat().st_mode
        except OSError:
            return _fail("terminal link", f"{shown}: {endpoint.url} does not exist",
                         "connect the cable; for the USB gadget port enable dwc2 + g_serial")
        if not stat.S_ISCHR(mode):
            return _fail("terminal link", f"{shown}: {endpoint.url} is not a serial device",
                         "set link.url to the terminal's serial port")
        return _ok("terminal link", f"{shown}: serial device present, {endpoint.baudrate} baud")
    if not endpoint.loopback:
        return _ok("terminal link", f"{shown}: reachable from the network, pairing token set; "
                   "allow the terminal's address in the unit (IPAddressAllow=)")
    return _ok("terminal link", f"{shown}: loopback only")


def _service_uid() -> int | None:
    try:
        return pwd.getpwnam(SERVICE_USER).pw_uid
    except KeyError:
        return None


def check_state_dir(config: DaemonConfig) -> Check:
    directory = config.state_dir
    if not directory.is_dir():
        return _fail("state dir", f"{directory} does not exist",
                     "sudo systemd-tmpfiles --create /etc/tmpfiles.d/myna-reader.conf")
    if not os.access(directory, os.W_OK | os.X_OK):
        return _fail("state dir", f"{directory} is not writable by uid {os.getuid()}",
                     f"run doctor as root or as {SERVICE_USER}")
    uid = _service_uid()
    if os.getuid() == 0 and uid is not None:
        # a file root created by hand (not through the CLI, which hands it on) is unreadable
        foreign = [p.name for p in [directory, *directory.iterdir()] if p.stat().st_uid != uid]
        if foreign:
            return _fail("state dir", f"not owned by {SERVICE_USER}: {', '.join(foreign)}",
                         f"sudo chown -R {SERVICE_USER}: {directory}")
    return _ok("state dir", f"{directory} writable")


def check_passcode(config: DaemonConfig) -> Check:
    from myna_reader.daemon.store.passcode import PasscodeStore, PasscodeStoreError

    if not config.state_dir.is_dir():
        return _fail("passcode", "no state dir", "see the state dir line")
    try:  # peek: read-only, a root doctor must not rewrite the service's file
        state = PasscodeStore(config.state_dir).peek()
    except (PasscodeStoreError, OSError) as exc:
        return _fail("passcode", f"store unreadable ({exc})",
                     "set it again: sudo myna-reader passcode set")
    if not state.provisioned:
        return _fail("passcode", "no staff passcode: 職員用 (staff mode) is hidden",
                     "issue one from the terminal, or: "
                     "sudo myna-reader passcode set")
    issued = "-" if state.issued_at is None else datetime.fromtimestamp(
        state.issued_at, UTC).astimezone().isoformat(timespec="minutes")
    lock = f", locked for {state.locked_for_s:.0f} s" if state.locked_for_s else ""
    return _ok("passcode", f"provisioned {issued}, {state.failures} failed tries{lock}")


FACE_EXTRA_FIX = "pip install 'myna-reader[face]' (or set face.available = false)"


def check_camera(role: str, spec_text: str) -> Check:
    """The camera a `[face]` role names opens and gives a frame (zeroed, never kept)."""
    from myna_reader.drivers.camera_spec import parse_camera_spec

    name = f"{role} camera"
    fix = (f"connect the camera (`v4l2-ctl --list-devices`, on a Pi `rpicam-hello "
           f"--list-cameras`) and set face.{role}_camera to it")
    try:
        from myna_reader.drivers.camera import CameraError, open_camera, wipe
    except ImportError as exc:
        return _fail(name, f"{spec_text}: imaging not installed ({exc})", FACE_EXTRA_FIX)
    try:
        source = open_camera(parse_camera_spec(spec_text))
    except ImportError as exc:
        return _fail(name, f"{spec_text}: OpenCV not installed ({exc})", FACE_EXTRA_FIX)
    except CameraError as exc:
        return _fail(name, f"{spec_text}: {exc}", fix)
    try:
        frame = source.read()
    except CameraError as exc:
        return _fail(name, f"{spec_text}: {exc}", fix)
    finally:
        source.close()
    if frame is None:
        return _fail(name, f"{spec_text}: opens but gives no frame", fix)
    height, width = frame.shape[:2]
    wipe([frame])
    return _ok(name, f"{spec_text}: {width}x{height} frames")


def import_failure(module: str, timeout: float = IMPORT_TIMEOUT_S) -> str | None:
    """Import `module` in a child interpreter; None when that worked, else what went wrong.
    A native library built for another CPU kills the process that imports it: the child's,
    not doctor's. -P: nothing from the technician's working directory is imported."""
    try:
        done = subprocess.run([sys.executable, "-P", "-c", f"import {module}"],  # noqa: S603
                              capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return f"importing {module} hung for {timeout:.0f} s"
    if done.returncode == 0:
        return None
    if done.returncode < 0:
        name = signal.Signals(-done.returncode).name
        return f"importing {module} crashed the process ({name})"
    lines = done.stderr.strip().splitlines()
    return f"importing {module} failed ({lines[-1] if lines else f'exit {done.returncode}'})"


def check_face_model() -> Check:
    from importlib.util import find_spec

    from myna_reader.daemon.face.model import model_files

    if find_spec("dlib") is None:
        return _fail("face model", "dlib is not installed", FACE_EXTRA_FIX)
    failure = import_failure("dlib")
    if failure:
        return _fail("face model", failure, "pip install --force-reinstall dlib-bin "
                     "(a build for this CPU), or set face.available = false")
    files = model_files()
    missing = [name for name, path in files.items() if path is None]
    if missing:
        return _fail("face model", f"model files missing: {', '.join(missing)}",
                     FACE_EXTRA_FIX)
    return _ok("face model", f"dlib with {', '.join(files)}")


def check_ocr_engine() -> Check:
    from myna_reader.daemon.face.ocr import ocr_version

    version = ocr_version()
    if version is None:
        return _fail("ocr engine", "RapidOCR is not installed", FACE_EXTRA_FIX)
    for module in ("onnxruntime", "rapidocr"):
        failure = import_failure(module)
        if failure:
            return _fail("ocr engine", f"RapidOCR {version} is installed but {failure}",
                         "pip install --force-reinstall onnxruntime (a build for this CPU), "
                         "or set face.available = false")
    return _ok("ocr engine", f"RapidOCR {version} (models inside the wheel)")


def face_checks(config: DaemonConfig) -> list[Callable[[], Check]]:
    """The face path's checks, only where `[face] available = true`."""
    face = config.session.face
    if not face.available:
        return []
    return [lambda: check_camera("patient", face.patient_camera),
            lambda: check_camera("card", face.card_camera),
            check_face_model, check_ocr_engine]


def run_checks(config_path: Path | None = None) -> list[Check]:
    """Every check, in the order a technician reads them."""
    config_lines, config = config_checks(config_path)
    checks: list[Callable[[], Check]] = [
        check_version, *[lambda line=line: line for line in config_lines],
        lambda: check_pcscd(config), lambda: check_reader(config), check_nfc_devices,
        lambda: check_display(config), check_sdl_video, lambda: check_touch(config),
        lambda: check_font(config),
        lambda: check_sound(config), lambda: check_voice(config),
        lambda: check_link(config), lambda: check_state_dir(config),
        lambda: check_passcode(config), *face_checks(config),
    ]
    results = []
    for check in checks:
        try:
            results.append(check())
        except Exception as exc:  # a broken check must not hide the others
            log.debug("doctor check crashed", exc_info=True)
            name = getattr(check, "__name__", "check").removeprefix("check_")
            results.append(_fail(name, f"could not be checked ({exc or 'an internal error'})",
                                 "report this with the output of `myna-reader -vv doctor`"))
    return results
