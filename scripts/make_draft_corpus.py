#!/usr/bin/env python3
"""Build the draft-head training corpus from material already on this machine (docs/DRAFT_HEADS.md).

Writes, into --out (default data/draft_corpus/, git-ignored):
  prompts.jsonl  {"id", "kind", "chat", "prompt"}: instruction prompts for self-distillation.
                 kind "code_completion" (~40%): Python function stubs (signature + docstring) cut
                 from the stdlib and site-packages, meant as raw completions (chat false, like the
                 HumanEval suite of bench/spec_bench.py); the other kinds (writing, roleplay,
                 reasoning, math, coding, extraction, stem, humanities) go through the chat template.
  text.jsonl     {"id", "text"}: documents for teacher-forced features, ~60% Python source,
                 ~40% English prose (man pages, /usr/share/doc, pydoc topics, package READMEs,
                 module docstrings). The id prefix names the source.
  summary.json   what was written, and what was dropped.

No item may share a word n-gram (--overlap-n, default 8; lowercased, split on whitespace and
punctuation) with a benchmark prompt (every MT-Bench turn, every HumanEval prompt), and no stub may
be a function of the same name as a HumanEval function (it would set the same task): offenders are
dropped while generating, and a final pass over the written files fails (exit 1) if any remain.

  python3 scripts/make_draft_corpus.py                      # build data/draft_corpus/
  python3 scripts/make_draft_corpus.py --seed 1 --text-mb 16 --out /tmp/corpus
  python3 scripts/make_draft_corpus.py --check-only data/draft_corpus   # overlap check only
"""
import argparse
import ast
import collections
import gzip
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import sysconfig
import time
from concurrent.futures import ThreadPoolExecutor

STDLIB = sysconfig.get_paths()["stdlib"]
SITE = sysconfig.get_paths()["purelib"]
CHUNK = 6000  # longest text document, characters
WORD_RE = re.compile(r"[^\W_]+")  # a word: a run of letters/digits; everything else separates


# ---------------------------------------------------------------------------------------------
# Benchmark overlap

def words(text):
    return WORD_RE.findall(text.lower())


def load_bench(bench_dir):
    """Every benchmark prompt as (id, text): all MT-Bench turns, all HumanEval prompts."""
    out = []
    with open(os.path.join(bench_dir, "mt_bench.jsonl"), encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                for t, turn in enumerate(row["turns"]):
                    out.append(("mt_bench/%s turn %d" % (row["question_id"], t + 1), turn))
    with open(os.path.join(bench_dir, "humaneval_prompts.jsonl"), encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                out.append((row["task_id"], row["prompt"]))
    return out


class Overlap:
    """Word n-grams of the benchmark prompts; find() returns the first one a text shares."""

    def __init__(self, bench, n):
        self.n, self.grams, self.texts = n, {}, dict(bench)
        for bid, text in bench:
            w = words(text)
            for i in range(len(w) - n + 1):
                self.grams.setdefault(" ".join(w[i:i + n]), bid)
        self.firsts = {g.split(" ", 1)[0] for g in self.grams}  # cheap pre-filter per position
        # functions the benchmark asks for: a stub of the same name would set the same task
        self.functions = {}
        for bid, text in bench:
            for name in re.findall(r"^def (\w+)\(", text, re.M):
                self.functions.setdefault(name, bid)

    def find(self, text):
        w, n, firsts, grams = words(text), self.n, self.firsts, self.grams
        for i in range(len(w) - n + 1):
            if w[i] in firsts:
                g = " ".join(w[i:i + n])
                if g in grams:
                    return g, grams[g]
        return None

    def find_stub(self, stub):
        """Like find(), and also a stub whose function has the name of a benchmark function."""
        m = re.search(r"^(?:async )?def (\w+)\(", stub, re.M)
        if m and m.group(1) in self.functions:
            return "def " + m.group(1), self.functions[m.group(1)]
        return self.find(stub)

    def describe(self, item_id, hit):
        gram, bid = hit
        snippet = " ".join(self.texts[bid].split())[:160]
        what = "the function name '%s'" % gram[4:] if gram.startswith("def ") else "the %d-gram '%s'" % (self.n, gram)
        return "%s shares %s with %s: %r" % (item_id, what, bid, snippet)


def verify(folder, overlap):
    """Re-check the written files: valid rows, unique ids, no benchmark n-gram. True when clean."""
    bad, ids, rows = [], set(), 0
    for name, field in (("prompts.jsonl", "prompt"), ("text.jsonl", "text")):
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            bad.append("%s is missing" % path)
            continue
        with open(path, encoding="utf-8") as f:
            for k, line in enumerate(f, 1):
                try:
                    row = json.loads(line)
                    item_id, text = row["id"], row[field]
                except (ValueError, KeyError, TypeError):
                    bad.append("%s line %d is not a JSON object with id and %s" % (name, k, field))
                    continue
                rows += 1
                if item_id in ids:
                    bad.append("%s: duplicate id %s" % (name, item_id))
                ids.add(item_id)
                hit = overlap.find_stub(text) if row.get("kind") == "code_completion" else overlap.find(text)
                if hit:
                    bad.append(overlap.describe("%s %s" % (name, item_id), hit))
    for msg in bad[:50]:
        print("OVERLAP CHECK FAILED: " + msg, file=sys.stderr)
    if len(bad) > 50:
        print("... and %d more" % (len(bad) - 50), file=sys.stderr)
    print("check %s: %d rows, %d problems (n=%d)" % (folder, rows, len(bad), overlap.n))
    return not bad


# ---------------------------------------------------------------------------------------------
# Small helpers

def split_chunks(text, soft, limit=CHUNK):
    """Cut text into pieces of at most limit chars, preferably before a line where soft(line)."""
    out, cur, size = [], [], 0
    for line in text.splitlines(keepends=True):
        while len(line) > limit:  # a giant line: hard cut
            out.append(line[:limit])
            line = line[limit:]
        if cur and (size + len(line) > limit or (size >= limit // 2 and soft(line))):
            out.append("".join(cur))
            cur, size = [], 0
        cur.append(line)
        size += len(line)
    if cur:
        out.append("".join(cur))
    return [c.strip("\n") for c in out if len(c.strip()) >= 200]


def code_soft(line):
    return bool(line) and not line[0].isspace() and line.startswith(("def ", "class ", "@", "async def "))


def prose_soft(line):
    return not line.strip()


def looks_like_prose(text):
    """Mostly ordinary words (rejects symbol tables, hex dumps, code)."""
    toks = text.split()
    if len(toks) < 40:
        return False
    plain = sum(1 for t in toks if re.fullmatch(r"[A-Za-z][a-z']*[.,;:!?)]?", t))
    return plain >= 0.55 * len(toks)


def round_robin(groups, rng, shuffle_items=True):
    """Yield one item from each group in turn (groups and their items shuffled), so no group dominates."""
    names = sorted(groups)
    rng.shuffle(names)
    lists = []
    for name in names:
        items = list(groups[name])
        if shuffle_items:
            rng.shuffle(items)
        lists.append(iter(items))
    while lists:
        alive = []
        for it in lists:
            item = next(it, None)
            if item is not None:
                alive.append(it)
                yield item
        lists = alive


def read_text(path):
    """File contents as text (gzip transparently); None if unreadable or not UTF-8."""
    try:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError, EOFError):
        return None


class Sink:
    """Accepts items that are new and benchmark-free; counts what it drops, by category."""

    def __init__(self, overlap):
        self.overlap, self.seen = overlap, set()
        self.dropped_overlap = collections.Counter()
        self.dropped_dup = collections.Counter()
        self.examples = []  # a few overlap drops, for the summary

    def accept(self, category, item_id, text):
        h = hashlib.sha1(" ".join(text.split()).encode()).hexdigest()
        if h in self.seen:
            self.dropped_dup[category] += 1
            return False
        hit = self.overlap.find_stub(text) if category == "code_completion" else self.overlap.find(text)
        if hit:
            self.dropped_overlap[category + (" (function name)" if hit[0].startswith("def ") else "")] += 1
            if len(self.examples) < 8:
                self.examples.append(self.overlap.describe(item_id, hit))
            return False
        self.seen.add(h)
        return True


# ---------------------------------------------------------------------------------------------
# Python sources: code documents, function stubs, module docstrings, short functions

def python_files(rng):
    """(path, label) of every .py file, round-robin over packages (stdlib modules, site-packages dirs)."""
    groups = collections.defaultdict(list)
    for base, label in ((STDLIB, "stdlib"), (SITE, "site-packages")):
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames
                                 if d != "__pycache__" and not d.startswith(".")
                                 and not d.endswith((".dist-info", ".egg-info"))
                                 and os.path.join(dirpath, d) != SITE)  # site-packages sits under the stdlib
            rel_dir = os.path.relpath(dirpath, base)
            for name in sorted(filenames):
                if name.endswith(".py"):
                    rel = os.path.normpath(os.path.join(rel_dir, name))
                    top = rel.split(os.sep)[0]
                    groups[label + "/" + top.removesuffix(".py")].append((os.path.join(dirpath, name), label + "/" + rel))
    return round_robin(groups, rng)


def read_python(path):
    """Source text if it looks like hand-written code (not tables or generated data)."""
    try:
        size = os.path.getsize(path)
    except OSError:
        return None
    if size < 300 or size > 400_000:
        return None
    text = read_text(path)
    if not text:
        return None
    if max(len(l) for l in text.splitlines()) > 200 or sum(map(text.count, "0123456789")) > 0.2 * len(text):
        return None
    return text


def signature_imports(tree, fn):
    """Top-level import lines that bind the names a function's signature uses (HumanEval-style header)."""
    used = set()
    for part in [fn.args, fn.returns] if fn.returns else [fn.args]:
        for node in ast.walk(part):
            if isinstance(node, ast.Name):
                used.add(node.id)
    by_module, plain = collections.defaultdict(list), []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                if (a.asname or a.name) in used:
                    by_module[node.module].append(a.name if not a.asname else "%s as %s" % (a.name, a.asname))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if (a.asname or a.name.split(".")[0]) in used:
                    plain.append("import " + (a.name if not a.asname else "%s as %s" % (a.name, a.asname)))
    lines = sorted(set(plain)) + ["from %s import %s" % (m, ", ".join(dict.fromkeys(n))) for m, n in sorted(by_module.items())]
    return lines


def function_stubs(tree, lines):
    """Module-level public functions with a sensible docstring and a real body: (name, stub, has_doctest)."""
    out = []
    for fn in tree.body:
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or fn.name.startswith(("_", "test")):
            continue
        doc = ast.get_docstring(fn)
        if not doc or not 80 <= len(doc) <= 1500 or len(doc.split()) < 12:
            continue
        body_lines = fn.end_lineno - fn.body[0].end_lineno
        if len(fn.body) < 2 or not 2 <= body_lines <= 60:  # something to complete, not a novel
            continue
        stub = "\n".join(lines[fn.lineno - 1:fn.body[0].end_lineno])
        if not stub.rstrip().endswith(('"""', "'''")):  # docstring must end its own line
            continue
        header = signature_imports(tree, fn)
        text = ("\n".join(header) + "\n\n\n" if header else "") + stub + "\n"
        out.append((fn.name, text, ">>>" in doc))
    return out


def short_functions(tree, lines):
    """Complete functions of 6-25 lines (methods too), dedented, for 'explain / test this code' prompts."""
    out = []
    nodes = tree.body + [n for c in tree.body if isinstance(c, ast.ClassDef) for n in c.body]  # no deep walk: slow
    for fn in nodes:
        if isinstance(fn, ast.FunctionDef) and not fn.name.startswith(("test", "__")) and 6 <= fn.end_lineno - fn.lineno + 1 <= 25 and not fn.decorator_list:
            src = "\n".join(lines[fn.lineno - 1:fn.end_lineno])
            indent = len(src) - len(src.lstrip(" "))
            out.append("\n".join(l[indent:] if l[:indent].isspace() else l for l in src.split("\n")))
    return out


def harvest_python(rng, sink, code_budget, n_stubs):
    """Walk Python files until there are code_budget bytes of code documents and n_stubs stubs."""
    code_docs, code_bytes, stubs, funcs, module_docs, module_subjects = [], 0, [], [], [], []
    files_parsed = 0
    for path, rel in python_files(rng):
        if code_bytes >= code_budget and len(stubs) >= n_stubs:
            break
        if rel.endswith("pydoc_data/topics.py"):  # prose, taken as pydoc topics
            continue
        text = read_python(path)
        if not text:
            continue
        if code_bytes >= code_budget and not re.search(r"^(async )?def [a-zA-Z]", text, re.M):
            continue  # only stubs still wanted, and no public top-level function: skip the parse
        try:
            tree = ast.parse(text)
        except Exception:  # py2 files, test data with deliberate syntax errors, deep nesting
            continue
        files_parsed += 1
        lines = text.split("\n")
        if code_bytes < code_budget:
            chunks = split_chunks(text, code_soft)
            start = rng.randrange(max(1, len(chunks) - 1))
            for k, chunk in enumerate(chunks[start:start + 2], start):  # at most 2 chunks a file
                doc_id = "py:%s#%d" % (rel, k)
                if sink.accept("code", doc_id, chunk):
                    code_docs.append((doc_id, chunk))
                    code_bytes += len(chunk.encode())
        if len(stubs) < n_stubs:
            cands = function_stubs(tree, lines)
            rng.shuffle(cands)
            cands.sort(key=lambda c: not c[2])  # doctest examples first: they are the rarer, richer kind
            took = 0
            for name, stub, doctest in cands:
                sid = "stub:%s:%s" % (rel, name)
                if took < 2 and len(stubs) < n_stubs and sink.accept("code_completion", sid, stub):
                    stubs.append({"id": sid, "kind": "code_completion", "chat": False, "prompt": stub, "_doctest": doctest})
                    took += 1
        fs = short_functions(tree, lines)
        if fs:
            funcs.append(rng.choice(fs))
        doc = ast.get_docstring(tree)
        if doc:
            if len(doc) >= 400 and looks_like_prose(doc):
                module_docs.append(("docstring:" + rel, doc))
            first = doc.strip().split("\n")[0].strip()
            depth = rel.count("/")
            if 15 <= len(first) <= 100 and (depth == 1 or (depth == 2 and rel.endswith("__init__.py"))):
                module_subjects.append((rel.split("/")[1].removesuffix(".py"), first.rstrip(".")))
    return code_docs, code_bytes, stubs, funcs, module_docs, module_subjects, files_parsed


# ---------------------------------------------------------------------------------------------
# Prose sources (each a generator of (id, text) chunks, in a seed-shuffled order)

def man_index():
    """(name, section, description) from the whatis database (man pages' NAME lines)."""
    try:
        out = subprocess.run(["apropos", "-l", "."], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    rows = []
    for line in out.splitlines():
        m = re.match(r"(\S+) \((\w+)\)\s+- (.+)", line)
        if m:
            rows.append((m.group(1), m.group(2), m.group(3).strip()))
    return rows


def render_man(page):
    name, sec = page
    env = {k: v for k, v in os.environ.items() if k not in ("MAN_KEEP_FORMATTING", "MANPAGER", "PAGER")}
    env.update(MANWIDTH="80", LC_ALL="C.UTF-8")
    try:
        out = subprocess.run(["man", "--no-hyphenation", "--no-justification", "-P", "cat", sec, name],
                             capture_output=True, text=True, env=env, timeout=30).stdout
    except (OSError, subprocess.SubprocessError, UnicodeDecodeError):
        return ""
    lines = out.split("\n")[1:-2]  # drop the running header and footer
    text = "\n".join(l[min(7, len(l) - len(l.lstrip(" "))):].rstrip() for l in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def man_pages(rng, index):
    """Rendered man pages: sections in turn, and within one, families in turn (gcloud has 16k pages)."""
    families, seen = collections.defaultdict(lambda: collections.defaultdict(list)), set()
    for name, sec, desc in index:
        if sec in ("1", "2", "3", "5", "7", "8") and (sec, desc) not in seen:  # aliases share a NAME line
            seen.add((sec, desc))
            family = "SQL" if name.isupper() else re.split(r"[-_.]", name)[0].lower()
            families[sec][family].append((name, sec))
    by_section = {sec: list(round_robin(fam, rng)) for sec, fam in sorted(families.items())}
    pages = list(round_robin(by_section, rng, shuffle_items=False))
    with ThreadPoolExecutor(2) as pool:  # man+groff is ~0.2 s a page; two at a time, order kept
        for start in range(0, len(pages), 8):
            batch = pages[start:start + 8]
            for (name, sec), text in zip(batch, pool.map(render_man, batch)):
                if looks_like_prose(text):
                    for k, chunk in enumerate(split_chunks(text, prose_soft)[:3]):
                        yield "man:%s.%s#%d" % (name, sec, k), chunk


def doc_files(rng):
    """README / FAQ / markdown / text files under /usr/share/doc (not changelogs or licenses)."""
    groups = collections.defaultdict(list)
    base = "/usr/share/doc"
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames.sort()
        for name in sorted(filenames):
            low = name.lower().removesuffix(".gz")
            if any(w in low for w in ("changelog", "copyright", "news", "license", "authors", "thanks", "symbols")):
                continue
            if low.startswith(("readme", "faq")) or low.endswith((".md", ".txt", ".rst")):
                rel = os.path.relpath(os.path.join(dirpath, name), base)
                groups[rel.split(os.sep)[0]].append(rel)
    for rel in round_robin(groups, rng):
        text = read_text(os.path.join(base, rel))
        if text and looks_like_prose(text):
            for k, chunk in enumerate(split_chunks(text, prose_soft)[:4]):
                yield "doc:%s#%d" % (rel, k), chunk


def pydoc_topics(rng):
    """The Python language reference topics that pydoc shows (pydoc_data.topics)."""
    try:
        from pydoc_data.topics import topics
    except ImportError:
        return
    names = sorted(topics)
    rng.shuffle(names)
    for name in names:
        for k, chunk in enumerate(split_chunks(topics[name], prose_soft)):
            yield "pydoc:%s#%d" % (name, k), chunk


def package_metadata():
    """site-packages METADATA: (name, summary, long description) of each installed distribution."""
    out = []
    for d in sorted(os.listdir(SITE)):
        if d.endswith(".dist-info"):
            text = read_text(os.path.join(SITE, d, "METADATA"))
            if not text:
                continue
            head, _, body = text.partition("\n\n")
            fields = dict(re.findall(r"^(Name|Summary): (.*)$", head, re.M))
            if "Name" in fields:
                out.append((fields["Name"], fields.get("Summary", "").strip(), body.strip()))
    return out


def metadata_docs(rng, meta):
    rows = list(meta)
    rng.shuffle(rows)
    for name, _, body in rows:
        if looks_like_prose(body):
            for k, chunk in enumerate(split_chunks(body, prose_soft)[:3]):
                yield "readme:%s#%d" % (name, k), chunk


def listed(docs):
    yield from docs


def fill_prose(sources, shares, budget, sink):
    """Take each source up to its share of the budget, then top up round-robin from what is left."""
    out, used = [], collections.Counter()

    def take(name):
        for doc_id, text in sources[name]:
            if sink.accept(name, doc_id, text):
                out.append((doc_id, text))
                used[name] += len(text.encode())
                return True
        return False

    for name in sources:
        while used[name] < shares[name] * budget and take(name):
            pass
    live = list(sources)
    while live and sum(used.values()) < budget:
        live = [name for name in live if take(name)]
    return out, used


def dpkg_packages():
    """(package, one-line description, long description) of installed Debian packages."""
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\t${Description}\n"],
                             capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    rows = []
    for line in out.splitlines():
        if line.startswith(" ") and rows:
            rows[-1][2].append("" if line.strip() == "." else line.strip())
        elif "\t" in line:
            name, desc = line.split("\t", 1)
            rows.append((name, desc.strip(), []))
    return [(n, d, "\n".join(l).strip()) for n, d, l in rows]


# ---------------------------------------------------------------------------------------------
# Instruction prompts: templates x subjects

NAMES = ["Amara", "Ben", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jamal", "Kofi",
         "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Victor",
         "Wen", "Ximena", "Yusuf", "Zoe", "Aiko", "Bruno", "Carmen", "Dev", "Emeka", "Freya", "Gustavo",
         "Hana", "Ivan", "Julia", "Kenji", "Leila", "Marco", "Noor"]
CITIES = ["Lisbon", "Nairobi", "Kyoto", "Montreal", "Reykjavik", "Cusco", "Hanoi", "Marrakesh", "Tallinn",
          "Melbourne", "Cape Town", "Oaxaca", "Edinburgh", "Istanbul", "Seoul", "Buenos Aires", "Prague",
          "Vancouver", "Mumbai", "Copenhagen", "Havana", "Zanzibar", "Queenstown", "Bergen", "Tbilisi"]
ITEMS = [("notebooks", 3), ("apples", 1), ("concert tickets", 45), ("pens", 2), ("sandwiches", 7), ("books", 14),
         ("plants", 9), ("coffees", 4), ("T-shirts", 18), ("bus passes", 25), ("pizzas", 12), ("candles", 6),
         ("board games", 30), ("pairs of socks", 5), ("movie tickets", 11), ("loaves of bread", 3),
         ("bicycle bells", 8), ("headphone sets", 40), ("jars of honey", 9), ("paint brushes", 4)]
JOBS = ["nurse", "data analyst", "high-school chemistry teacher", "barista", "software engineer",
        "museum guide", "electrician", "marketing manager", "librarian", "airline pilot", "park ranger",
        "graphic designer", "veterinarian", "civil engineer", "journalist", "pastry chef", "accountant",
        "social worker", "UX researcher", "wind-turbine technician"]
TOPICS = ["learning a second language as an adult", "the first day at a new job", "a city at night",
          "growing vegetables on a balcony", "a long train journey", "losing and finding a dog",
          "the smell of rain", "working from home", "a grandmother's recipe", "the last day of summer",
          "moving to a new country", "a power outage in winter", "an old lighthouse", "learning to swim",
          "a chess tournament", "the ocean at dawn", "a small bookshop closing", "a marathon", "friendship",
          "a village festival", "a robot that wants to paint", "a forgotten letter", "autumn leaves",
          "a mountain hut", "saving money for the first time", "a noisy neighbour", "a school reunion",
          "the joy of cooking", "a library after closing time", "volunteering at an animal shelter"]
OCCASIONS = ["a colleague's retirement", "a team project that shipped on time", "a friend's wedding",
             "the opening of a community garden", "a graduation ceremony", "a charity fundraiser",
             "a new neighbour moving in", "the end of a volunteer season", "a company's tenth anniversary"]
STEM = ["Newton's third law", "conservation of momentum", "entropy", "the photoelectric effect",
        "special relativity", "quantum tunnelling", "electromagnetic induction", "Ohm's law", "the Doppler effect",
        "superconductivity", "buoyancy", "radioactive half-life", "nuclear fission", "wave-particle duality",
        "the greenhouse effect", "chemical equilibrium", "the pH scale", "oxidation and reduction",
        "covalent and ionic bonds", "catalysts", "isotopes", "polymers", "electrolysis", "activation energy",
        "photosynthesis", "cellular respiration", "DNA replication", "natural selection", "the immune response",
        "CRISPR gene editing", "enzymes", "cell division", "the nitrogen cycle", "antibiotic resistance",
        "how neurons transmit signals", "how vaccines work", "homeostasis", "food webs", "plate tectonics",
        "the water cycle", "black holes", "the life cycle of a star", "ocean currents", "why Earth has seasons",
        "the carbon cycle", "how earthquakes are measured", "hash tables", "public-key cryptography",
        "TCP versus UDP", "virtual memory", "garbage collection", "compilers versus interpreters",
        "gradient descent", "how neural networks learn", "database indexes", "CPU caches", "the CAP theorem",
        "big-O notation", "floating-point arithmetic", "version control", "how DNS resolves a name",
        "Bayes' theorem", "the central limit theorem", "eigenvectors", "complex numbers", "logarithms",
        "standard deviation", "the Fourier transform", "graph theory", "derivatives", "definite integrals",
        "how a transistor works", "how lithium-ion batteries store energy", "how solar panels work",
        "how GPS finds your position", "how an electric motor works", "how a suspension bridge carries load",
        "how a refrigerator moves heat", "how Wi-Fi transmits data", "how a jet engine produces thrust"]
HUMANITIES = ["the fall of the Western Roman Empire", "the Renaissance", "the invention of the printing press",
              "the Industrial Revolution", "the French Revolution", "the Meiji Restoration", "the Silk Road",
              "the Cold War", "decolonization in Africa", "the Protestant Reformation", "the Ottoman Empire",
              "the Black Death", "the Magna Carta", "the Enlightenment", "World War I",
              "the Great Depression", "the civil rights movement", "the fall of the Berlin Wall",
              "the Mongol Empire", "Athenian democracy", "the Inca road network", "the Harlem Renaissance",
              "the space race", "utilitarianism", "Kant's categorical imperative", "existentialism", "Stoicism",
              "social contract theory", "Plato's allegory of the cave", "Confucian ethics", "free will and determinism",
              "Rawls's veil of ignorance", "the ship of Theseus paradox", "the hero's journey", "magical realism",
              "Greek tragedy", "Romantic poetry", "dystopian fiction", "the Epic of Gilgamesh", "the unreliable narrator",
              "Don Quixote", "supply and demand", "inflation", "comparative advantage", "opportunity cost",
              "game theory", "the tragedy of the commons", "monopolies", "central banks and interest rates",
              "universal basic income", "globalization", "behavioural economics", "Impressionism",
              "Baroque music", "Cubism", "the invention of photography", "jazz improvisation", "Gothic architecture",
              "film noir", "the separation of powers", "freedom of speech", "urbanization", "the ethics of artificial intelligence",
              "how languages change over time", "bilingualism", "cognitive dissonance", "Maslow's hierarchy of needs",
              "confirmation bias", "the placebo effect", "the role of museums today", "oral storytelling traditions"]
PERSONAS = ["a pirate captain who has just found a treasure map", "a medieval blacksmith", "a Linux system administrator",
            "a tour guide in {city}", "a strict but kind piano teacher", "a nutritionist", "a job interviewer hiring a {job}",
            "a travel agent", "a librarian who loves mystery novels", "a detective in 1920s {city}", "a chef running a small bistro",
            "a startup founder pitching an app", "a museum curator", "an astronaut on the International Space Station",
            "a kindergarten teacher", "a stand-up comedian", "a park ranger", "a personal fitness coach",
            "a customer support agent for a software tool described as \"{pkg_desc}\"", "a wise old tree", "a time traveller from the year 2300",
            "a barista on a busy Monday morning", "a ship's navigator in the 1700s", "a patient maths tutor",
            "a sports commentator", "a career counsellor", "a friendly robot vacuum cleaner", "a radio DJ",
            "a beekeeper", "a wedding planner", "a volcanologist", "a lighthouse keeper", "a negotiator"]
CODE_TASKS = ["merges two sorted lists into one sorted list", "counts word frequencies in a text file and prints the ten most common",
              "flattens an arbitrarily nested list", "validates an IPv4 address", "reads a CSV file and averages one numeric column",
              "does binary search over a sorted list", "converts Roman numerals to integers",
              "finds the longest common prefix of a list of strings", "implements an LRU cache with a fixed capacity",
              "loads a JSON config file and merges it over default settings", "computes the Levenshtein distance between two strings",
              "does a breadth-first search on a graph stored as an adjacency list", "detects a cycle in a directed graph",
              "evaluates an expression in reverse Polish notation", "rotates a square matrix 90 degrees clockwise",
              "splits a list into batches of size n", "finds all files with a given extension under a folder",
              "retries a failing call with exponential backoff", "implements a thread-safe counter",
              "parses a web server log and counts errors per hour", "converts a date string from one format to another",
              "generates all permutations of a list", "implements a trie with insert and prefix search",
              "keeps a moving average over a stream of numbers", "serializes a dataclass to JSON and back",
              "implements quicksort", "implements Dijkstra's shortest-path algorithm", "checks whether a Sudoku board is valid",
              "does run-length encoding and decoding", "implements a token-bucket rate limiter",
              "renames every file in a folder by adding a date prefix", "implements matrix multiplication without libraries",
              "finds the k most frequent elements of a list", "implements a small event emitter with subscribe and emit",
              "checks whether two strings are anagrams", "turns a nested dictionary into dotted keys",
              "implements a debounce helper", "tokenizes arithmetic expressions", "implements a circular buffer",
              "keeps a small shop inventory with add, sell and restock operations", "memoizes a function with a decorator",
              "computes the union of overlapping intervals", "pretty-prints a table of rows with aligned columns",
              "implements a min-heap from scratch", "parses a query string into a dictionary", "computes a SHA-256 checksum of a large file in chunks"]
LANGS = ["Python", "Python", "Python", "JavaScript", "TypeScript", "C", "C++", "Rust", "Go", "Java", "Bash"]
SQL = ["the five customers who spent the most last year", "the average salary per department, highest first",
       "products that have never been ordered", "the month with the most new sign-ups", "employees who earn more than their manager",
       "duplicate email addresses in a users table", "the running total of sales per day", "the second highest order amount",
       "authors with more than three published books", "orders that shipped later than promised"]
STOP = set("""about above after again against because before being below between both could does doing during each
further having here itself just more most other ought same should some such than that their theirs them themselves
then there these they this those through under until very were what when where which while whom would your yours
yourself also used using uses will with from into only been have like make made many much must need shall since
thus upon within without where whether either neither another below following default option options""".split())


def pick(rng, seq, k=1):
    return rng.sample(seq, k) if k > 1 else rng.choice(seq)


def gen_writing(rng, S):
    name, desc, _ = pick(rng, S.pkgs)
    w = pick(rng, S.words, 3)
    t = [
        lambda: "Write a haiku about %s." % pick(rng, S.words + TOPICS),
        lambda: "Write a limerick that uses the words \"%s\" and \"%s\"." % (w[0], w[1]),
        lambda: "Write a short story of about 200 words about %s. Include the words \"%s\", \"%s\" and \"%s\"." % (pick(rng, TOPICS), *w),
        lambda: "Write a four-stanza poem about %s." % pick(rng, TOPICS),
        lambda: "Write a short blog post introducing %s, a package described as \"%s\", for people who have never used it." % (name, desc),
        lambda: "Write a product description, under 100 words, for a tool that offers this: %s." % desc,
        lambda: "Draft a friendly email to my team announcing that we will start using %s (%s). Keep it brief." % (name, desc),
        lambda: "Write the opening paragraph of a cover letter for a job as a %s." % pick(rng, JOBS),
        lambda: "Write a short speech for %s." % pick(rng, OCCASIONS),
        lambda: "Write a short scene, mostly dialogue, about %s." % pick(rng, TOPICS),
        lambda: "Give me an outline for an article about %s, with section headings and one sentence per section." % pick(rng, TOPICS + HUMANITIES),
        lambda: "Summarize the following text in three sentences:\n\n%s" % pick(rng, S.passages),
        lambda: "Rewrite the following text in plain language that a twelve-year-old could follow:\n\n%s" % pick(rng, S.passages),
        lambda: "Write a review of an imaginary restaurant in %s, mentioning one dish you loved and one you did not." % pick(rng, CITIES),
        lambda: "Write a postcard message from a holiday in %s to a friend back home." % pick(rng, CITIES),
        lambda: "Write a tweet-length announcement for the release of %s: %s." % (name, desc),
        lambda: "Write a thank-you note to a %s who helped me last week." % pick(rng, JOBS),
        lambda: "Suggest five catchy titles for a podcast episode about %s." % pick(rng, TOPICS + STEM),
    ]
    return pick(rng, t)()


def gen_roleplay(rng, S):
    persona = pick(rng, PERSONAS).format(city=pick(rng, CITIES), job=pick(rng, JOBS), pkg_desc=pick(rng, S.pkgs)[1])
    name, sec, desc = pick(rng, S.cmds)
    q = pick(rng, ["What does a normal day look like for you?", "What is the hardest part of your work?",
                   "Tell me about the strangest thing that has happened to you.", "What advice would you give a beginner?",
                   "I am nervous about meeting you. Can you put me at ease?", "What are you most proud of?",
                   "How do you deal with a difficult customer?", "What would you change about your job if you could?",
                   "Describe the place where you work.", "Someone asks you what %s means. What do you say?" % desc.lower(),
                   "Tell me about a mistake you learned from."])
    t = [
        lambda: "Pretend you are %s. %s" % (persona, q),
        lambda: "You are %s. Stay in character for the rest of our conversation. %s" % (persona, q),
        lambda: "Let's play a game: you are %s and I am a curious visitor. Greet me and start the conversation." % persona,
        lambda: "Act as %s and give me a short motivational talk about %s." % (persona, pick(rng, TOPICS)),
        lambda: "Imagine you are %s. Describe your morning in the first person, in about 150 words." % persona,
        lambda: "Play the role of %s. I will ask questions and you answer in character. First question: %s" % (persona, q),
        lambda: "You are a help-desk assistant. A user asks how to use the `%s` command (%s). Answer patiently, step by step." % (name, desc),
    ]
    return pick(rng, t)()


def gen_reasoning(rng, S):
    people = pick(rng, NAMES, 4)
    adj = pick(rng, [("taller", "shortest", "tallest"), ("older", "youngest", "oldest"), ("faster", "slowest", "fastest")])
    order = people[:]
    rng.shuffle(order)
    facts = ["%s is %s than %s." % (order[i], adj[0], order[i + 1]) for i in range(3)]
    rng.shuffle(facts)
    day = pick(rng, ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"])
    a, d = rng.randint(1, 9), rng.randint(2, 7)
    seq = pick(rng, [[a + d * i for i in range(5)], [a * d ** i for i in range(5)], [a + i * i * d for i in range(5)]])
    word = pick(rng, S.words)
    groups = pick(rng, [("cats", "mammals", "pets"), ("squares", "rectangles", "shapes with four sides"),
                        ("violinists", "musicians", "early risers"), ("roses", "flowers", "red things"),
                        ("engineers", "graduates", "people who like puzzles")])
    t = [
        lambda: " ".join(facts) + " Who is the %s, and who is the %s? Explain your reasoning." % (adj[1], adj[2]),
        lambda: "If today is %s, what day of the week will it be in %d days? Show how you worked it out." % (day, rng.randint(10, 400)),
        lambda: "What is the next number in the sequence %s, ...? Explain the pattern." % ", ".join(map(str, seq[:4])),
        lambda: "All %s are %s. Some %s are %s. Can we conclude that some %s are %s? Explain." % (groups[0], groups[1], groups[1], groups[2], groups[0], groups[2]),
        lambda: "What is the angle between the hour and minute hands of a clock at %d:%02d?" % (rng.randint(1, 12), rng.choice(range(0, 60, 5))),
        lambda: "%s is %s's mother. %s is %s's brother. How is %s related to %s?" % (people[0], people[1], people[2], people[0], people[2], people[1]),
        lambda: "On an island, knights always tell the truth and knaves always lie. %s says: \"%s is a knave.\" %s says: \"We are both %s.\" Which of them is a knight and which is a knave?" % (people[0], people[1], people[1], pick(rng, ["knights", "knaves"])),
        lambda: "How many times does the letter '%s' appear in the word \"%s\"? Spell it out letter by letter." % (pick(rng, sorted(set(word))), word),
        lambda: "Sort these words alphabetically and explain any tricky cases: %s." % ", ".join(pick(rng, S.words, 6)),
        lambda: "I have %d coins that look identical, but one is heavier. With a balance scale, what is the smallest number of weighings that always finds it? Explain." % rng.choice([3, 8, 9, 12, 27]),
        lambda: "A farmer must carry a wolf, a goat and a cabbage across a river in a boat that holds only one of them at a time. How can it be done?",
        lambda: "%s, %s and %s each own one pet: a cat, a parrot or a fish. %s does not own the cat. %s owns the fish. Who owns which pet?" % (people[0], people[1], people[2], people[0], people[1]),
        lambda: "Is the following argument valid? \"If it rains, the %s gets wet. The %s is wet. Therefore it rained.\" Explain." % (word, word),
    ]
    return pick(rng, t)()


def quadratic(b, c):
    """x^2 + bx + c written the way people write it (x^2 - x - 6, x^2 + 4)."""
    text = "x^2"
    for coef, var in ((b, "x"), (c, "")):
        if coef:
            num = "" if abs(coef) == 1 and var else str(abs(coef))
            text += " %s %s%s" % ("-" if coef < 0 else "+", num, var)
    return text


def gen_math(rng, S):
    n = pick(rng, NAMES)
    item, price = pick(rng, ITEMS)
    q = rng.randint(2, 9)
    r1, r2 = rng.randint(-9, 9), rng.randint(-9, 9)
    b, k = rng.randint(10, 40), rng.randint(1, 5)  # removed number b + (q + 3) k keeps every average whole
    t = [
        lambda: "%s buys %d %s at $%d each and pays with a $%d bill. How much change does %s get?" % (n, q, item, price, (q * price // 50 + 1) * 50, n),
        lambda: "A train travels %d km in %d hours. At the same speed, how far will it travel in %d hours?" % (rng.randint(3, 9) * 40, rng.randint(2, 4), rng.randint(5, 9)),
        lambda: "A jacket costs $%d. It is discounted by %d%%, and then a %d%% sales tax is added. What is the final price?" % (rng.randint(4, 20) * 10, rng.choice([10, 15, 20, 25, 30]), rng.choice([5, 8, 10])),
        lambda: "%d workers can paint a house in %d days. How many days would %d workers need, working at the same rate?" % (rng.randint(2, 6), rng.randint(6, 12), rng.randint(3, 10)),
        lambda: "If you invest $%d at %d%% interest compounded yearly, how much will you have after %d years?" % (rng.randint(1, 20) * 500, rng.randint(2, 8), rng.randint(2, 10)),
        lambda: "A rectangle has a perimeter of %d cm and a length of %d cm. What is its area?" % (2 * (q + 10) + 2 * q, q + 10),
        lambda: "Solve for x: %dx %s %d = %d." % (q, "+" if r1 >= 0 else "-", abs(r1), q * rng.randint(-5, 12) + r1),
        lambda: "Find both solutions of %s = 0." % quadratic(-(r1 + r2), r1 * r2),
        lambda: "A bag holds %d red, %d blue and %d green marbles. Two are drawn without replacement. What is the probability that both are red?" % (rng.randint(2, 8), rng.randint(2, 8), rng.randint(1, 6)),
        lambda: "A parent is %d years old and their child is %d. In how many years will the parent be exactly twice as old as the child?" % (2 * (q + 5) + r1 + 10, q + 5),
        lambda: "The average of %d numbers is %d. When one of them is removed, the average of the rest is %d. What number was removed?" % (q + 3, b + k, b),
        lambda: "In how many ways can %d people sit in a row if two particular people must sit next to each other?" % (q + 2),
        lambda: "What is the greatest common divisor of %d and %d? Show the steps of Euclid's algorithm." % (q * rng.randint(10, 60), q * rng.randint(10, 60)),
        lambda: "Find the sum of all positive multiples of %d or %d below %d." % (rng.choice([2, 3, 4]), rng.choice([5, 7, 11]), rng.choice([100, 250, 500, 1000])),
        lambda: "A recipe uses %d cups of flour for %d cookies. How much flour is needed for %d cookies?" % (q, 12 * q, rng.randint(3, 10) * 12),
        lambda: "Two cyclists start %d km apart and ride towards each other at %d km/h and %d km/h. After how long do they meet?" % (rng.randint(3, 20) * 10, rng.randint(10, 25), rng.randint(10, 25)),
        lambda: "A circle has a circumference of %d cm. What is its area? Give the answer to two decimal places." % rng.randint(10, 100),
        lambda: "A shop sells %s for $%d each. The price rises by %d%% and sales fall by %d%%. Does revenue go up or down, and by how much?" % (item, price, rng.choice([10, 20, 25]), rng.choice([5, 10, 15, 20])),
        lambda: "What is the area of a triangle with vertices at (%d, %d), (%d, %d) and (%d, %d)?" % tuple(rng.randint(-8, 8) for _ in range(6)),
        lambda: "How many minutes are there in %d weeks, %d days and %d hours?" % (rng.randint(1, 5), rng.randint(1, 6), rng.randint(1, 23)),
    ]
    return pick(rng, t)()


def gen_coding(rng, S):
    lang = pick(rng, LANGS)
    task = pick(rng, CODE_TASKS)
    fn = pick(rng, S.funcs)
    name, sec, desc = pick(rng, S.cmds)
    mod, line = pick(rng, S.modules)
    t = [
        lambda: "Write a %s function that %s." % (lang, task),
        lambda: "Write a %s program that %s. Add comments that explain the tricky parts." % (lang, task),
        lambda: "How would you write a function that %s in %s? Explain the time and space complexity." % (task, lang),
        lambda: "Explain what this Python function does, line by line:\n\n```python\n%s\n```" % fn,
        lambda: "Review this Python code. Point out bugs, edge cases and style problems, then suggest a better version:\n\n```python\n%s\n```" % fn,
        lambda: "Write pytest unit tests for this function:\n\n```python\n%s\n```" % fn,
        lambda: "Translate this Python function to %s:\n\n```python\n%s\n```" % (pick(rng, LANGS[3:]), fn),
        lambda: "Show me three practical examples of the `%s` command (%s), with a one-line explanation of each." % (name, desc),
        lambda: "How do I use the Python module `%s`? Its documentation says: \"%s\". Give a short example." % (mod, line),
        lambda: "Write a SQL query that finds %s. Describe the tables you assume." % pick(rng, SQL),
        lambda: "Write a bash script that uses `%s` (%s) and handles errors properly." % (name, desc),
        lambda: "Write a function in %s that %s, then write two tests for it." % (lang, task),
    ]
    return pick(rng, t)()


def gen_extraction(rng, S):
    pk = pick(rng, S.pkgs, rng.randint(3, 6))
    cm = pick(rng, S.cmds, rng.randint(4, 7))
    people = pick(rng, NAMES, 3)
    months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
    start = rng.randrange(8)
    sales = "\n".join("%s: %d units sold, revenue $%d" % (m, rng.randint(50, 900), rng.randint(1000, 40000)) for m in months[start:start + 4])
    story = ("%s moved from %s to %s in %d to work as a %s. Two years later %s joined the same company, and in %d they both met %s at a conference in %s."
             % (people[0], pick(rng, CITIES), pick(rng, CITIES), rng.randint(1990, 2022), pick(rng, JOBS), people[1], rng.randint(2000, 2024), people[2], pick(rng, CITIES)))
    t = [
        lambda: "Extract each package name and what it is for from this list, and return a JSON array of objects with keys \"name\" and \"purpose\":\n\n%s"
                % "\n".join("- %s: %s" % (n, d) for n, d, _ in pk),
        lambda: "Here are some command descriptions. Return a Markdown table with columns Command, Section and Purpose:\n\n%s"
                % "\n".join("%s (%s) - %s" % c for c in cm),
        lambda: "Read the text below and list its three most important points as bullet points:\n\n%s" % pick(rng, S.passages),
        lambda: "List every technical term in the following text, with a short definition of each:\n\n%s" % pick(rng, S.passages),
        lambda: "Which month had the highest revenue, and what was the average number of units sold? Answer in JSON.\n\n%s" % sales,
        lambda: "Identify all people, places and years in this text and return them as JSON with keys \"people\", \"places\" and \"years\":\n\n%s" % story,
        lambda: "From this package description, extract the package's main features as a bullet list:\n\n%s: %s\n%s" % pick(rng, S.long_pkgs),
        lambda: "Classify each of these tools as a compiler, a library, a command-line utility or something else, and explain briefly:\n\n%s"
                % "\n".join("- %s: %s" % (n, d) for n, d, _ in pk),
        lambda: "Extract the function names, their parameters and return types from these Python signatures as a table:\n\n%s"
                % "\n\n".join(s.split('"""')[0].split("'''")[0].strip() for s in pick(rng, S.sigs, 3)),
    ]
    return pick(rng, t)()


def gen_stem(rng, S):
    i = rng.randrange(len(STEM))
    c, c2 = STEM[i], STEM[(i + rng.choice([-2, -1, 1, 2])) % len(STEM)]  # STEM is grouped by field: compare neighbours
    name, desc, _ = pick(rng, S.pkgs)
    mod, line = pick(rng, S.modules)
    t = [
        lambda: "Explain %s in simple terms, with an everyday example." % c,
        lambda: "Explain %s to a high-school student, then name one common misconception about it." % c,
        lambda: "What is the difference between %s and %s? Where are they connected, if at all?" % (c, c2),
        lambda: "How could you demonstrate %s with a simple experiment or program?" % c,
        lambda: "What are three practical applications of %s?" % c,
        lambda: "Write a short quiz of five questions, with answers, about %s." % c,
        lambda: "Tell the story of how people came to understand %s." % c,
        lambda: "What problem does a package described as \"%s\" solve, and how does it work under the hood?" % desc,
        lambda: "Explain the computer-science ideas behind Python's `%s` module (\"%s\")." % (mod, line),
        lambda: "Give a step-by-step explanation of %s, with a worked numerical example if one fits." % c,
    ]
    return pick(rng, t)()


def gen_humanities(rng, S):
    h, h2 = pick(rng, HUMANITIES, 2)
    t = [
        lambda: "What were the causes and consequences of %s?" % h,
        lambda: "Why does %s still matter today? Give two concrete examples." % h,
        lambda: "Compare %s and %s. What do they have in common?" % (h, h2),
        lambda: "Write an essay outline arguing for and against the importance of %s." % h,
        lambda: "Explain %s to someone who has never studied the subject." % h,
        lambda: "What are the main criticisms of %s, and how have its defenders answered them?" % h,
        lambda: "Design a one-week lesson plan for teenagers on %s." % h,
        lambda: "Recommend three books or films for someone who wants to understand %s, and say why." % h,
        lambda: "How might a historian and an economist see %s differently?" % h,
        lambda: "What can %s teach us about life today?" % h,
    ]
    return pick(rng, t)()


KINDS = {"writing": (gen_writing, 0.15), "roleplay": (gen_roleplay, 0.11), "reasoning": (gen_reasoning, 0.12),
         "math": (gen_math, 0.14), "coding": (gen_coding, 0.16), "extraction": (gen_extraction, 0.11),
         "stem": (gen_stem, 0.11), "humanities": (gen_humanities, 0.10)}


def make_prompts(rng, S, n_total, sink):
    """n_total templated prompts, split over the kinds by weight; duplicates and overlaps redrawn."""
    out = []
    for i, (kind, (gen, weight)) in enumerate(KINDS.items()):
        want = round(n_total * weight) if i else n_total - sum(round(n_total * w) for _, w in list(KINDS.values())[1:])
        tries, made = 0, 0
        while made < want and tries < want * 20:
            tries += 1
            text = gen(rng, S).strip()
            pid = "%s-%04d" % (kind, made)
            if sink.accept(kind, pid, text):
                out.append({"id": pid, "kind": kind, "chat": True, "prompt": text})
                made += 1
    return out


class Subjects:
    pass


def write_jsonl(path, rows):
    """Write to a temporary file, then rename: a reader of the old file never sees a half-written one."""
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    os.replace(path + ".tmp", path)


# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="data/draft_corpus")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--prompts", type=int, default=3000, help="number of prompts (40%% code completion)")
    ap.add_argument("--text-mb", type=float, default=8.0, help="MB of text documents (60%% code, 40%% prose)")
    ap.add_argument("--overlap-n", type=int, default=8, help="word n-gram length of the benchmark overlap check")
    ap.add_argument("--bench-dir", default="/work/shared/bench")
    ap.add_argument("--check-only", metavar="DIR", help="only run the overlap check on an existing corpus folder")
    args = ap.parse_args()
    t0 = time.time()
    overlap = Overlap(load_bench(args.bench_dir), args.overlap_n)
    if args.check_only:
        sys.exit(0 if verify(args.check_only, overlap) else 1)

    sink = Sink(overlap)
    budget = int(args.text_mb * 1e6)
    n_stubs = round(args.prompts * 0.4)
    rng = lambda name: random.Random("%d:%s" % (args.seed, name))  # one stream per part: parts stay stable

    # Python: code documents, stubs, and by-products for the prompts
    code_docs, code_bytes, stubs, funcs, module_docs, module_subjects, files_parsed = harvest_python(
        rng("python"), sink, 0.6 * budget, n_stubs)
    t_python = time.time() - t0

    # Prose
    meta = package_metadata()
    mans = man_index()
    sources = {"man": man_pages(rng("man"), mans), "doc": doc_files(rng("doc")), "pydoc": pydoc_topics(rng("pydoc")),
               "readme": metadata_docs(rng("readme"), meta), "docstring": listed(module_docs)}
    shares = {"man": 0.25, "doc": 0.25, "pydoc": 0.15, "readme": 0.15, "docstring": 0.20}
    prose_docs, _ = fill_prose(sources, shares, budget - code_bytes, sink)
    for gen in sources.values():
        gen.close()  # stops the man-page renderers
    t_prose = time.time() - t0 - t_python

    # Subjects for the templated prompts
    S = Subjects()
    pkgs = dpkg_packages()
    S.pkgs = [(n, d, l) for n, d, l in pkgs if 12 <= len(d) <= 90 and not re.search(r"transitional|dummy|debug symbols", d, re.I)]
    S.long_pkgs = [(n, d, l) for n, d, l in S.pkgs if 150 <= len(l) <= 1200]
    S.cmds = [(n, s, d) for n, s, d in mans if s in ("1", "8") and 10 <= len(d) <= 100 and not n.startswith("gcloud")]
    S.modules = module_subjects + [(n, s) for n, s, _ in meta if 15 <= len(s) <= 100]
    S.funcs = funcs
    S.sigs = [s["prompt"] for s in stubs]
    S.passages = [p.strip() for _, text in prose_docs if not _.startswith("docstring:")
                  for p in text.split("\n\n") if 300 <= len(p.strip()) <= 1200 and looks_like_prose(p)]
    if os.path.exists("/usr/share/dict/words"):
        S.words = sorted({w for w in open("/usr/share/dict/words", encoding="utf-8", errors="ignore").read().split()
                          if w.isalpha() and w.islower() and 4 <= len(w) <= 12})
    else:  # no dictionary: frequent plain words of the prose we collected
        counts = collections.Counter(w for _, text in prose_docs for w in re.findall(r"\b[a-z]{5,12}\b", text))
        S.words = sorted(w for w, c in counts.most_common(4000) if w not in STOP)
    prng = rng("prompts")
    rows = make_prompts(prng, S, args.prompts - len(stubs), sink)
    rows += [{k: v for k, v in s.items() if not k.startswith("_")} for s in stubs]
    prng.shuffle(rows)

    # Write
    os.makedirs(args.out, exist_ok=True)
    docs = code_docs + prose_docs
    write_jsonl(os.path.join(args.out, "prompts.jsonl"), rows)
    write_jsonl(os.path.join(args.out, "text.jsonl"), ({"id": d, "text": t} for d, t in docs))

    kinds = collections.Counter(r["kind"] for r in rows)
    src_count = collections.Counter(d.split(":", 1)[0] for d, _ in docs)
    src_mb = collections.Counter()
    for d, text in docs:
        src_mb[d.split(":", 1)[0]] += len(text.encode()) / 1e6
    summary = {
        "seed": args.seed, "overlap_n": args.overlap_n,
        "prompts": len(rows), "prompts_by_kind": dict(sorted(kinds.items())),
        "stubs_with_doctest": sum(s["_doctest"] for s in stubs), "python_files_parsed": files_parsed,
        "text_docs": len(docs), "text_mb": round(sum(src_mb.values()), 3),
        "text_by_source": {k: {"docs": src_count[k], "mb": round(src_mb[k], 3)} for k in sorted(src_count)},
        "dropped_overlap": dict(sorted(sink.dropped_overlap.items())),
        "dropped_duplicate": dict(sorted(sink.dropped_dup.items())),
        "overlap_examples": sink.examples,
        "subjects": {"packages": len(S.pkgs), "commands": len(S.cmds), "modules": len(S.modules),
                     "functions": len(S.funcs), "passages": len(S.passages), "words": len(S.words)},
    }
    ok = verify(args.out, overlap)
    summary["verified"] = ok
    summary["elapsed_s"] = round(time.time() - t0, 1)
    summary["elapsed_by_part_s"] = {"python": round(t_python, 1), "prose": round(t_prose, 1)}
    with open(os.path.join(args.out, "summary.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
    print("prompts: %d  (%s)" % (len(rows), ", ".join("%s %d" % kv for kv in sorted(kinds.items()))))
    print("  code_completion stubs with doctest examples: %d; python files parsed: %d" % (summary["stubs_with_doctest"], files_parsed))
    print("text: %d docs, %.2f MB  (%s)" % (len(docs), summary["text_mb"],
          ", ".join("%s %d docs %.2f MB" % (k, v["docs"], v["mb"]) for k, v in summary["text_by_source"].items())))
    print("dropped for benchmark overlap: %d  (%s)" % (sum(sink.dropped_overlap.values()),
          ", ".join("%s %d" % kv for kv in sorted(sink.dropped_overlap.items())) or "none"))
    for msg in sink.examples:
        print("  e.g. " + msg)
    print("dropped as duplicates: %d  (%s)" % (sum(sink.dropped_dup.values()),
          ", ".join("%s %d" % kv for kv in sorted(sink.dropped_dup.items()))))
    print("verification: %s; elapsed %.1f s (python %.1f s, prose %.1f s); wrote %s"
          % ("passed" if ok else "FAILED", summary["elapsed_s"], t_python, t_prose, args.out))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
