#!/usr/bin/env python3
"""Execute one notebook headlessly with nbclient and check it (used by lib/notebooks/jupyter.ts).

usage: run_notebook.py INPUT.ipynb OUTPUT.ipynb [--kernel NAME] [--timeout SECONDS]

Runs every cell with the given kernel (default: the notebook's kernelspec), working
directory = the input notebook's folder, saves the executed notebook (also when a cell
fails: outputs up to the failing cell), and prints one JSON report line on stdout:

  {"ok": bool, "seconds": float, "cells": [{"index", "ok", "outputs", "tags", "error"?}],
   "failures": ["cell 7: Error: ..."], "output": PATH}

A notebook fails when a cell raises, or when a code cell with source shows no output at
all (unless tagged "no-output" in metadata.tags): the Deno kernel can drop a cell's
execute_result, so the kit's notebooks display explicitly and this check catches a cell
whose output went missing. Exit status: 0 ok, 1 the notebook failed, 3 could not run
(bad arguments, unreadable notebook, kernel did not start).
"""
import argparse
import json
import os
import sys
import time


# lib/viz/show.ts: DISPLAY_SEQ_MIME and DISPLAY_COUNT.
SEQ_MIME = "application/x-svrnn-display-seq"
COUNT_VAR = "__svrnnDisplays"
COUNT_MIME = "application/x-svrnn-display-count"
CELL_PAUSE_MS = 100


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--kernel", default=None)
    ap.add_argument("--timeout", type=int, default=1800)
    args = ap.parse_args()

    try:
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError
    except ImportError as e:  # pragma: no cover
        print(json.dumps({"ok": False, "setup_error": f"cannot import nbclient/nbformat: {e}"}))
        return 3

    try:
        nb = nbformat.read(args.input, as_version=4)
    except Exception as e:
        print(json.dumps({"ok": False, "setup_error": f"cannot read {args.input}: {e}"}))
        return 3

    # A last cell, removed before saving, reports how many displays the kit's helpers sent
    # (lib/viz/show.ts numbers each one): a display the Deno kernel dropped shows as a gap.
    # It waits a moment after its display: the race drops displays sent just before a cell
    # ends, and this one is always the last.
    nb.cells.append(nbformat.v4.new_code_cell(
        f'await Deno.jupyter.display({{ "{COUNT_MIME}": String(globalThis.{COUNT_VAR} ?? 0) }}, '
        '{ raw: true });\nawait new Promise((r) => setTimeout(r, 250));'))
    # Every code cell ends with a short pause, removed again before saving: the race drops
    # displays sent just before a cell ends (the kernel reports the cell idle before they go
    # out), and a pause lets them go out first.
    sources = {}
    for i, cell in enumerate(nb.cells[:-1]):
        if cell.cell_type == "code" and cell.source.strip():
            sources[i] = cell.source
            cell.source = cell.source + f"\n;await new Promise((r) => setTimeout(r, {CELL_PAUSE_MS}));"
    kernel = args.kernel or nb.metadata.get("kernelspec", {}).get("name")
    workdir = os.path.dirname(os.path.abspath(args.input))
    client = NotebookClient(
        nb,
        kernel_name=kernel,
        timeout=args.timeout,
        resources={"metadata": {"path": workdir}},
        allow_errors=False,
        record_timing=False,
    )
    started = time.time()
    failures = []
    setup_error = None
    try:
        client.execute()
    except CellExecutionError:
        pass  # recorded from the cell outputs below
    except Exception as e:  # kernel did not start, timeout, dead kernel
        msg = str(e).strip().splitlines()
        setup_error = f"{type(e).__name__}: {msg[-1] if msg else ''}"
    seconds = time.time() - started

    for i, source in sources.items():
        nb.cells[i].source = source
    sentinel = nb.cells.pop()
    sent = next((o["data"][COUNT_MIME] for o in sentinel.get("outputs", [])
                 if COUNT_MIME in o.get("data", {})), None)
    received = 0
    for cell in nb.cells:
        for o in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if SEQ_MIME in o.get("data", {}):
                del o["data"][SEQ_MIME]
                received += 1

    cells = []
    reached = True
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tags = list(cell.get("metadata", {}).get("tags", []))
        outputs = cell.get("outputs", [])
        error = next((o for o in outputs if o.get("output_type") == "error"), None)
        executed = cell.get("execution_count") is not None or len(outputs) > 0
        info = {"index": i, "ok": True, "outputs": len(outputs), "tags": tags}
        if error is not None:
            info["ok"] = False
            info["error"] = f"{error.get('ename', 'Error')}: {error.get('evalue', '')}"
            failures.append(f"cell {i}: {info['error']}")
            reached = False
        elif not reached or not executed:
            info["ok"] = False
            info["error"] = "not executed"
        elif not outputs and cell.source.strip() and "no-output" not in tags:
            info["ok"] = False
            info["error"] = "no output (display explicitly, or tag the cell no-output)"
            failures.append(f"cell {i}: shows no output")
        cells.append(info)
    if setup_error:
        failures.insert(0, setup_error)
    elif not failures and (sent is None or int(sent) != received):
        failures.append(f"outputs dropped: {sent if sent is not None else '?'} displays sent, "
                        f"{received} received")

    try:
        nbformat.write(nb, args.output)
    except Exception as e:
        failures.append(f"cannot write {args.output}: {e}")

    ok = not failures and all(c["ok"] for c in cells)
    report = {"ok": ok, "seconds": round(seconds, 2), "kernel": kernel, "cells": cells,
              "failures": failures, "output": args.output}
    print(json.dumps(report))
    if setup_error and not any(c["outputs"] for c in cells):
        return 3
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
