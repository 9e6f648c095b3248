"""Debian's hesinfo pointed at a test DNS server and zone, the machine's own
files untouched: resolv.conf (which has no port: the server must answer on
port 53 of its address) bound over /etc/resolv.conf in a mount namespace
of hesinfo's own (unshare -m), and HESIOD_CONFIG naming a test hesiod.conf.

    env = hesiod_env(directory, "127.3.4.5", "athena.test")
    hesinfo(env, "alice", "filsys")      # its lines, [] when none
"""
import os
import subprocess


def hesiod_env(directory, server, zone, lhs=".ns"):
    """Writes resolv.conf and hesiod.conf into directory; returns it."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "resolv.conf"), "w") as f:
        f.write(f"nameserver {server}\noptions timeout:2 attempts:2\n")
    with open(os.path.join(directory, "hesiod.conf"), "w") as f:
        f.write(f"lhs={lhs}\nrhs=.{zone}\nclasses=IN\n")
    return directory


def hesinfo(env, name, kind):
    """hesinfo NAME KIND's lines, with env's resolver and hesiod.conf."""
    script = (f"mount --bind {env}/resolv.conf /etc/resolv.conf && "
              f"HESIOD_CONFIG={env}/hesiod.conf exec hesinfo {name} {kind}")
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                       capture_output=True, text=True, timeout=30)
    return r.stdout.splitlines()
