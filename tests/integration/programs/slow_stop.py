"""A rank that takes longer to stop than mpirun allows after a SIGTERM (2 s): it starts a child
(`sleep`, its pid in OUT_DIR/rank<RANK>.child), writes OUT_DIR/rank<RANK>.started, and on SIGTERM
waits 4 s (a checkpoint), writes rank<RANK>.stopped with the signal's name and exits 0, leaving
the child to whoever cleans up.   usage: slow_stop.py --out_dir OUT_DIR"""
import os
import signal
import subprocess
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
child = subprocess.Popen(["sleep", "600"])
with open(f"{out}/rank{rank}.child", "w") as f:
    f.write(str(child.pid))
open(f"{out}/rank{rank}.started", "w").close()
time.sleep(600)
sys.exit(3)
