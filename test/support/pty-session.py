"""Runs a command in a pseudo-terminal and answers its prompts.

Usage: python3 pty-session.py STEPS_JSON -- COMMAND [ARGS...]
STEPS_JSON is a list of [expected_text, keys_to_send]: each step waits until
the text appears in the output (after the previous step's match), then types
the keys. Prints {"code": exit_code, "output": transcript} as JSON.
"""
import fcntl
import json
import os
import pty
import select
import struct
import sys
import termios
import time

TIMEOUT_SECONDS = 180


def main() -> None:
    separator = sys.argv.index('--')
    steps = json.loads(sys.argv[1])
    command = sys.argv[separator + 1:]

    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    # A new pty is 0x0; prompts wrap at the terminal width, so give it a real size.
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 120, 0, 0))

    output = b''
    searched_from = 0
    step = 0
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if step < len(steps):
            expected = steps[step][0].encode()
            found = output.find(expected, searched_from)
            if found >= 0:
                # Let the prompt finish drawing and enable raw mode before typing.
                time.sleep(0.15)
                os.write(fd, steps[step][1].encode())
                searched_from = found + len(expected)
                step += 1
                continue
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
    else:
        os.kill(pid, 9)

    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    print(json.dumps({'code': code, 'steps_done': step, 'output': output.decode('utf-8', 'replace')}))


main()
