"""rnnlib: recurrent neural networks in NumPy, written in the lecture's notation.

The package behind the interactive textbook: every chapter imports it. The core is functional,
like the equations: ``init_rnn``, ``rnn_step_forward``/``rnn_step_backward``,
``rnn_forward``/``rnn_backward``, with params as plain dicts of arrays (W, U, V, b, c).
Plotting and widgets live in their own modules (``rnnlib.book``, ``rnnlib.widgets``), so this
import stays light (NumPy only).
"""
from .activations import activate, activation_derivative, sigmoid
from .gradcheck import gradcheck, numerical_gradient, rel_error
from .losses import cross_entropy, log_softmax, softmax
from .optim import SGD, Adagrad, Adam, clip_grad_norm, clip_grad_value, global_norm
from .rnn import (
    RNNCache,
    StepCache,
    init_rnn,
    rnn_backward,
    rnn_forward,
    rnn_loss,
    rnn_step_backward,
    rnn_step_forward,
)
from .text import Vocabulary, sample
from .train import History, TrainingDiverged, train
# Gated cells (chapter "Gated cells: LSTM and GRU")
from .gru import GRUCache, GRUStepCache, gru_backward, gru_forward, gru_step_backward, gru_step_forward, init_gru
from .lstm import LSTMCache, LSTMStepCache, init_lstm, lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward

__version__ = "0.1.0"

__all__ = [
    "init_rnn", "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward", "rnn_loss",
    "RNNCache", "StepCache",
    "activate", "activation_derivative", "sigmoid", "softmax", "log_softmax", "cross_entropy",
    "gradcheck", "numerical_gradient", "rel_error",
    "SGD", "Adagrad", "Adam", "clip_grad_norm", "clip_grad_value", "global_norm",
    "train", "History", "TrainingDiverged", "sample", "Vocabulary",
    "init_lstm", "lstm_step_forward", "lstm_step_backward", "lstm_forward", "lstm_backward",
    "LSTMCache", "LSTMStepCache",
    "init_gru", "gru_step_forward", "gru_step_backward", "gru_forward", "gru_backward",
    "GRUCache", "GRUStepCache",
]
