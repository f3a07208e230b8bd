"""Coupling maps of superconducting processors, built programmatically.

* :func:`square_lattice` — a rows×cols grid (tunable-coupler transmon processors: Google
  Sycamore, USTC Zuchongzhi, Origin Wukong; one coupler per edge).
* :func:`heavy_hex_lattice` — IBM's heavy-hexagon lattice: rows of qubits joined by *bridge*
  qubits, so every qubit has degree ≤ 3 (Chamberland, Zhu, Yoder, Hertzberg and Cross,
  "Topological and subsystem codes on low-degree graphs with flag qubits", Phys. Rev. X 10,
  011022 (2020)). With its defaults it is the 127-qubit Eagle layout of ibm_washington,
  ibm_sherbrooke and ibm_brisbane (IBM Quantum Platform coupling maps): 7 rows of 15 qubits
  (the first without its last qubit, the last without its first), 4 bridges between
  consecutive rows, alternately under columns 0, 4, 8, 12 and 2, 6, 10, 14; qubits numbered
  row by row, each row's bridges after it (row 0 = qubits 0–13, bridges 14–17, row 1 = 18–32,
  ...). 127 qubits, 144 edges.
"""

from __future__ import annotations

import itertools

__all__ = ["heavy_hex_lattice", "square_lattice"]


def square_lattice(rows: int, cols: int) -> tuple[tuple[int, int], ...]:
    """Edges ``(a, b)``, ``a < b``, of a rows×cols square lattice; qubit ``r * cols + c``.

    ``rows * (cols - 1) + (rows - 1) * cols`` edges.
    """
    edges = []
    for r, c in itertools.product(range(rows), range(cols)):
        q = r * cols + c
        if c + 1 < cols:
            edges.append((q, q + 1))
        if r + 1 < rows:
            edges.append((q, q + cols))
    return tuple(edges)


def heavy_hex_lattice(rows: int = 7, width: int = 15, *, bridge_spacing: int = 4
                      ) -> tuple[int, tuple[tuple[int, int], ...]]:
    """The heavy-hex lattice of IBM Eagle-class processors (see the module docstring).

    Args:
        rows: rows of qubits, >= 2.
        width: columns of a full row, >= 3; the first row lacks its last column and the last
            row its first (as on the 127-qubit Eagle).
        bridge_spacing: columns between bridge qubits of one row gap, even, >= 2; the bridge
            columns alternate between ``0, s, 2s, ...`` and ``s/2, s/2 + s, ...``.
    Returns:
        ``(qubit_count, edges)``; edges ``(a, b)`` with ``a < b``, sorted.
    Raises:
        ValueError: a parameter out of range.
    """
    if rows < 2 or width < 3 or bridge_spacing < 2 or bridge_spacing % 2:
        raise ValueError(f"heavy-hex lattice needs rows >= 2, width >= 3 and an even "
                         f"bridge_spacing >= 2, got {rows}, {width}, {bridge_spacing}")
    def columns(r: int) -> range:
        if r == 0:
            return range(0, width - 1)
        return range(1, width) if r == rows - 1 else range(width)

    # number row qubits and bridges in reading order: row 0, its bridges, row 1, ...
    row_qubit: dict[tuple[int, int], int] = {}
    bridges: list[tuple[int, int, int]] = []  # (bridge qubit, row above, column)
    count = 0
    for r in range(rows):
        for c in columns(r):
            row_qubit[(r, c)] = count
            count += 1
        if r + 1 < rows:
            offset = 0 if r % 2 == 0 else bridge_spacing // 2
            for c in range(offset, width, bridge_spacing):
                if c in columns(r) and c in columns(r + 1):
                    bridges.append((count, r, c))
                    count += 1
    edges = [(row_qubit[(r, c - 1)], q) for (r, c), q in row_qubit.items()
             if (r, c - 1) in row_qubit]
    for bridge, r, c in bridges:
        edges += [(row_qubit[(r, c)], bridge), (bridge, row_qubit[(r + 1, c)])]
    return count, tuple(sorted((min(a, b), max(a, b)) for a, b in edges))
