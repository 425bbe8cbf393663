#!/usr/bin/env python3
"""Times the picker's redraw per keystroke, end to end through a pseudo-terminal.

    picker_keystrokes.py ROLECALL CONFIG [ROUNDS]

Starts `ROLECALL assume --shell bash` on a new pseudo-terminal (120 x 40) with AWS_CONFIG_FILE
set to CONFIG, waits for the picker's first draw, then types a fixed sequence of keys ROUNDS
times (letters, backspaces, an arrow, Ctrl-U), one key at a time: each is timed from the write
until its redraw has fully arrived. Then Esc, and rolecall must exit 130.

Prints one line on stdout: the median and the largest time in milliseconds, and how many
keystrokes were timed. Standard library only, so it runs wherever python3 does.
"""

import fcntl
import os
import pty
import re
import select
import statistics
import struct
import sys
import termios
import time

# Every draw ends by moving the cursor back up to the query line: up N rows, carriage return,
# right M columns. Nothing else the picker writes ends that way, so a read that leaves the
# output ending with it has the whole draw.
DRAW_END = re.compile(rb"\x1b\[\d+A\r\x1b\[\d+C\Z")
# Narrowing by name, widening again, an arrow, clearing, narrowing by description, and letters
# after a clear (every profile is searched again).
KEYS = [b"p", b"-", b"4", b"9", b"9", b"\x7f", b"\x7f", b"1", b"\x1b[B", b"\x15",
        b"o", b"f", b" ", b"4", b"2", b"\x7f", b"\x15", b"G", b"e", b"n", b"\x15"]
TIMEOUT_SECONDS = 30


def read_until_drawn(master, output):
    """Reads from master until `output` (a bytearray) ends with a whole draw."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while not DRAW_END.search(output):
        left = deadline - time.monotonic()
        if left <= 0:
            sys.exit(f"picker_keystrokes: no complete draw within {TIMEOUT_SECONDS} s; "
                     f"last output: {bytes(output[-200:])!r}")
        ready, _, _ = select.select([master], [], [], left)
        if ready:
            chunk = os.read(master, 65536)
            if not chunk:
                sys.exit("picker_keystrokes: rolecall closed the terminal before drawing")
            output += chunk


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__.strip().splitlines()[1].strip())
    rolecall, config = sys.argv[1], sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) == 4 else 3
    environment = dict(os.environ, AWS_CONFIG_FILE=config, TERM="xterm-256color")
    started = time.perf_counter()
    pid, master = pty.fork()
    if pid == 0:
        # The picker draws on /dev/tty, this terminal; stdout is the shell code, which a shell
        # function would capture: on a terminal rolecall refuses to print it at all.
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        try:
            os.execve(rolecall, [rolecall, "assume", "--shell", "bash"], environment)
        finally:
            os._exit(127)
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    read_until_drawn(master, bytearray())
    # Start-up included: what a person waits for after typing `assume` and Enter.
    first_draw = time.perf_counter() - started
    times = []
    for _ in range(rounds):
        for key in KEYS:
            output = bytearray()
            start = time.perf_counter()
            os.write(master, key)
            read_until_drawn(master, output)
            times.append(time.perf_counter() - start)
    os.write(master, b"\x1b")
    # Whatever else rolecall writes (clearing its lines) must be read, or it could block.
    while True:
        try:
            if not os.read(master, 65536):
                break
        except OSError:  # EIO: the terminal's other side has closed
            break
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 130:
        sys.exit(f"picker_keystrokes: rolecall exited {code} after Esc, not 130")
    # ROUNDS 0 times the first draw alone.
    median = statistics.median(times) if times else 0.0
    slowest = max(times) if times else 0.0
    print(f"{median * 1000:.2f} {slowest * 1000:.2f} {len(times)} {first_draw * 1000:.2f}")


if __name__ == "__main__":
    main()
