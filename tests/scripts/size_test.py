#!/usr/bin/env python3
"""The code's size limits, checked: no file in src/ over 400 lines, no function over 80; no script in
the --scripts folders (lab/) over 400 lines either.

A function here is a brace block opened directly in a namespace or a class (not inside another
function) whose head has a parameter list; lambdas and local classes count toward the function they
are in. Strings, characters and comments are blanked first, so braces in them do not count.

  size_test.py [--max-file-lines 400] [--max-function-lines 80] [--scripts DIR]... [SRC_DIR]
Exit 0 when every file and function is within its limit, 1 naming each one that is not.
"""
import argparse
import os
import re
import sys

CONTROL = re.compile(r"\b(if|for|while|switch|catch|do|else|return)\b")


def blank(text):
    """Comments, strings and character literals blanked, line breaks kept."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i) if m else -1
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "'" and i > 0 and text[i - 1].isalnum() and i + 1 < n and text[i + 1].isalnum():
            out.append(c)  # a digit separator: 1'000'000
            i += 1
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * (j - i - 1) + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(text):
    """(name, first line, line count) of each function defined at namespace or class scope."""
    code = blank(text)
    stack = []  # kinds of the open blocks: "scope" (namespace, class, enum...) or "function" or "other"
    head_start = 0
    found = []
    for i, c in enumerate(code):
        if c in ";":
            head_start = i + 1
        elif c == "{":
            head = code[head_start:i]
            inside_function = any(k in ("function", "other") for k in stack)
            kind = "other"
            if not inside_function:
                flat = " ".join(head.split())
                if re.search(r"\b(namespace|class|struct|union|enum)\b[^()]*$", flat) or not flat or flat.endswith("="):
                    kind = "scope"
                elif "(" in flat and not CONTROL.match(flat.strip()):
                    kind = "function"
                    name = re.findall(r"([~\w:]+)\s*\(", flat)
                    found.append([name[0] if name else "?", code.count("\n", 0, i) + 1, i, None])
                else:
                    kind = "scope" if not flat.endswith(")") else "other"
            stack.append(kind)
            head_start = i + 1
        elif c == "}":
            kind = stack.pop() if stack else "scope"
            if kind == "function":
                f = next(f for f in reversed(found) if f[3] is None)
                f[3] = code.count("\n", f[2], i) + 1
            head_start = i + 1
    return [(name, line, count) for name, line, _, count in found]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src", nargs="?", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src"))
    ap.add_argument("--max-file-lines", type=int, default=400)
    ap.add_argument("--max-function-lines", type=int, default=80)
    ap.add_argument("--scripts", action="append", default=[], help="a folder of shell and Python scripts")
    a = ap.parse_args()
    problems, files, funcs = [], 0, 0
    for folder in a.scripts:
        for name in sorted(os.listdir(folder)):
            if name.endswith((".sh", ".py")):
                lines = open(os.path.join(folder, name), encoding="utf-8").read().count("\n")
                files += 1
                if lines > a.max_file_lines:
                    problems.append(f"{os.path.basename(os.path.normpath(folder))}/{name}: {lines} lines (limit {a.max_file_lines})")
    for root, _, names in os.walk(a.src):
        for name in sorted(names):
            if not name.endswith((".cpp", ".hpp")):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, a.src)
            text = open(path, encoding="utf-8").read()
            files += 1
            lines = text.count("\n")
            if lines > a.max_file_lines:
                problems.append(f"{rel}: {lines} lines (limit {a.max_file_lines})")
            for fname, line, count in functions(text):
                funcs += 1
                if count > a.max_function_lines:
                    problems.append(f"{rel}:{line}: {fname} is {count} lines (limit {a.max_function_lines})")
    for p in problems:
        print("size: FAIL " + p)
    print(f"size: {files} files and {funcs} functions, {len(problems)} over their limits")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
