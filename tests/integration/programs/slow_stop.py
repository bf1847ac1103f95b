"""A rank that takes longer to stop than mpirun allows after a SIGTERM (2 s): it writes
OUT_DIR/rank<RANK>.started, and on SIGTERM waits 4 s (a checkpoint), writes rank<RANK>.stopped with
the signal's name and exits 0.   usage: slow_stop.py --out_dir OUT_DIR"""
import os
import signal
import sys
import time

out = sys.argv[sys.argv.index("--out_dir") + 1]
rank = os.environ["RANK"]


def stop(sig, frame):
    time.sleep(4)
    with open(f"{out}/rank{rank}.stopped", "w") as f:
        f.write(signal.Signals(sig).name)
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
open(f"{out}/rank{rank}.started", "w").close()
time.sleep(600)
sys.exit(3)
