"""Diagrams of the book: every structure the lecture draws, drawn as SVG in one visual language.

Taught with, not in, every chapter: each function returns a :class:`Diagram` (``.svg``,
``.alt``, ``.width``, ``.height``, ``.save(path)``) that shows itself inline in Jupyter and on
the built pages, or an :class:`InteractiveDiagram` whose buttons switch precomputed drawings
with CSS alone (no kernel needed). Colours, shapes and fonts: :mod:`rnnlib.diagrams.style`.

===============================  ======================================================
chapter                          functions
===============================  ======================================================
Sequence modeling                sequence_pattern(kind), sequence_patterns()
Computational graphs             computational_graph("a" | "b" | "c" | "d"),
                                 unrolled_graph(T=3), rnnlib.graph.draw(outputs)
Recurrence and unfolding         unfolding(T), unfolding_explorer(), driven_system(),
                                 rnn_without_outputs(T=3)
The RNN's equations              rnn_step()
Design patterns and deep RNNs    design_pattern(kind), deep_rnn(kind)
Backpropagation through time     bptt_paths(t, k), bptt_explorer(t)
Exploding and vanishing          jacobian_chain(T), skip_connections(T, skip)
Gated cells                      lstm_cell(), gru_cell()
Recursive networks               tree_diagram(tree), chain_and_balanced(n), grammar_tree(expr)
Sequence modeling: beam search   beam_tree(levels), beam_trace(params, s0, ...)
Design patterns: bidirectional   bidirectional_rnn(T)
Echo state networks, leaky units echo_state_network(), leaky_unit(alpha)
Where recurrence went            attention(weights), attention_alignment(weights),
                                 linear_recurrence_chain(T), associative_scan(schedule),
                                 scan_and_tree(T)
===============================  ======================================================

Nothing here is imported by ``import rnnlib``; Graphviz is imported only when a graph is drawn.
"""
from .beams import EXAMPLE as BEAM_EXAMPLE, BeamCandidate, beam_trace, beam_tree
from .beyond import (
    attention, attention_alignment, bidirectional_rnn, echo_state_network, leaky_unit,
    linear_recurrence_chain,
)
from .cells import gru_cell, lstm_cell
from .computational import computational_graph, rnn_without_outputs, unrolled_graph
from .schematics import (
    bptt_explorer, bptt_paths, deep_rnn, design_pattern, driven_system, jacobian_chain,
    rnn_step, sequence_pattern, sequence_patterns, skip_connections, unfolding,
    unfolding_explorer,
)
from .svg import Diagram, InteractiveDiagram
from .scans import associative_scan, scan_and_tree
from .trees import chain_and_balanced, grammar_tree, tree_diagram

__all__ = [
    "Diagram", "InteractiveDiagram",
    "sequence_pattern", "sequence_patterns",
    "computational_graph", "unrolled_graph", "rnn_without_outputs",
    "unfolding", "unfolding_explorer", "driven_system",
    "rnn_step", "design_pattern", "deep_rnn",
    "bptt_paths", "bptt_explorer", "jacobian_chain", "skip_connections",
    "lstm_cell", "gru_cell",
    "tree_diagram", "chain_and_balanced", "grammar_tree",
    "bidirectional_rnn", "beam_tree", "beam_trace", "BeamCandidate", "BEAM_EXAMPLE",
    "echo_state_network", "leaky_unit", "attention", "attention_alignment",
    "linear_recurrence_chain", "associative_scan", "scan_and_tree",
]
