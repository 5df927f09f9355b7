"""A stand-in for the kernel's serial shell, for testing the harness itself.

Speaks the console protocol of harness/console.py on a raw terminal: boot
lines, `napilab: ready`, the prompt, echo of every character typed, and a
few commands. Not a model of the kernel beyond that.

    fake_guest.py [--boot panic|silent|die] [--delay S]

Commands: help, info, stats, poweroff (exit 1), panic (KERNEL PANIC, exit
33), die (exit 0, as QEMU after a triple fault), hang (stops answering),
spam N (N lines of output), later S TEXT (prints TEXT after S seconds,
asynchronously), anything else -> `error: unknown command`.
"""
import json
import os
import select
import sys
import time
import tty

T0 = time.monotonic()


def out(text: str) -> None:
    os.write(1, text.encode())


def log(msg: str) -> None:
    out(f"[{time.monotonic() - T0:12.6f}] {msg}\r\n")


def panic(why: str) -> None:
    out(f"KERNEL PANIC: {why}\r\n  rip=0xffffffff80001234 (fake)\r\n")
    sys.exit(33)


def command(line: str) -> None:
    words = line.split()
    if not words:
        return
    cmd, args = words[0], words[1:]
    if cmd == "help":
        out("help info stats poweroff panic die hang spam later\r\n")
    elif cmd == "info":
        out("memory: 512 MiB\r\ncpu: fake\r\n")
    elif cmd == "stats":
        out(json.dumps({"uptime_ms": int((time.monotonic() - T0) * 1000)}) + "\r\n")
    elif cmd == "poweroff":
        out("poweroff\r\n")
        sys.exit(1)
    elif cmd == "panic":
        panic("on request")
    elif cmd == "die":
        sys.exit(0)
    elif cmd == "hang":
        while True:
            time.sleep(1)
    elif cmd == "spam":
        for i in range(int(args[0])):
            out(f"spam line {i} " + "x" * 60 + "\r\n")
    elif cmd == "later":
        if os.fork() == 0:
            time.sleep(float(args[0]))
            out(" ".join(args[1:]) + "\r\n")
            os._exit(0)
    else:
        out(f"error: unknown command '{cmd}'\r\n")


def main() -> None:
    boot = "ok"
    if "--boot" in sys.argv:
        boot = sys.argv[sys.argv.index("--boot") + 1]
    if sys.stdin.isatty():
        tty.setraw(0)
    out("\x1b[2J\x1b[01;01HBdsDxe: loading Boot0001 (fake firmware)\r\n")
    log("napilab: fake kernel")
    log("mm: 512 MiB")
    if boot == "panic":
        panic("at boot")
    if boot == "die":
        sys.exit(0)
    if boot == "silent":
        while True:
            time.sleep(1)
    out("napilab: ready\r\nnapilab> ")
    line = ""
    while True:
        select.select([0], [], [])
        data = os.read(0, 64).decode()
        if not data:
            return
        for ch in data:
            if ch in "\r\n":
                out("\r\n")
                command(line)
                line = ""
                out("napilab> ")
            else:
                out(ch)
                line += ch


if __name__ == "__main__":
    main()
