"""One place per security rule: read from the source, since a second copy
of a rule is what drifts (the purge once dropped root without
no_new_privs; the jail's view was listed three times).  No lockerd runs."""
import glob
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def code(path):
    """The file without its comments (which may name what they replaced)."""
    with open(path) as f:
        text = f.read()
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def where(pattern):
    rx = re.compile(pattern)
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "src", "*.c"))
                  if rx.search(code(p)))


def test_every_drop_of_root_is_become():
    """setgroups, setresgid, setresuid, no_new_privs: in become.c alone."""
    assert where(r"\b(setgroups|setres[ug]id|set[ug]id|setre[ug]id)\s*\(") == ["become.c"]
    assert where(r"PR_SET_NO_NEW_PRIVS") == ["become.c"]


def test_every_child_resets_its_signals_in_one_place():
    """A child's signal mask and dispositions are reset by child_reset()."""
    assert where(r"SIG_SETMASK") == ["proc.c"]
    # Every signal to its default: a loop to NSIG (the CLI's one SIG_DFL
    # re-raises a signal in its own handler: not a child's reset).
    assert where(r"<\s*NSIG") == ["proc.c"]


def test_the_jails_view_is_listed_once():
    """The system directories a jail shows are named in jail.c alone."""
    for d in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/sys",
              "/dev/shm", "/var/tmp"):
        assert where(r'"%s"' % re.escape(d)) == ["jail.c"], d


def test_a_locker_names_syntax_is_written_once():
    """locker_label_check() in route.c; everyone else calls it."""
    defs = where(r"(?m)^locker_label_check\(")
    assert defs == ["route.c"]
    assert where(r"a locker name may contain only") == ["route.c"]
