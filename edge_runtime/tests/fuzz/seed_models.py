"""A fuzzing seed the zoo lacks: a stock transformers RoBERTa (table lookups, integer index arithmetic)
of dynamic length, so the fuzzer mutates the dynamic fields and runs at other lengths (run_fuzz.sh)."""

import torch
from transformers import RobertaConfig, RobertaModel


def roberta():
    torch.manual_seed(0)
    model = RobertaModel(RobertaConfig(vocab_size=40, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                       intermediate_size=64, max_position_embeddings=24))
    return model, [(torch.randint(3, 40, (1, 8)), torch.ones(1, 8, dtype=torch.long)) for _ in range(2)]
