"""State of GPT (lecture 8) on tinytorch: from a base model to an assistant, at toy scale.

    tasks.py            addition/subtraction (with a calculator call), count, reverse, sort: generators,
                        a hashed train/test split, exact-match rewards
    calculator.py       the tool: arithmetic parsed with `ast`, never `eval`
    corpus.py           the pretraining corpus: Tiny Shakespeare + task text
    tokenizer.py        regex BPE + the chat special tokens; the chat template (ids + mask)
    tokenizer_stage.py  stage 1: train the tokenizer
    pretrain.py         stage 2: models/gpt's GPT and training step on the corpus
    sft.py              stage 3: packed conversations, loss on the assistant's tokens only
    preferences.py      preference pairs sampled from the SFT model
    reward_model.py     stage 4: GPT trunk + scalar head, Bradley-Terry loss, pairwise accuracy
    rl.py               stage 5: nanochat's on-policy policy gradient (optional RLHF with a KL penalty)
    dpo.py              stage 6: DPO against the frozen SFT model, win rate
    losses.py           the four losses with their gradients derived
    engine.py           batched sampling with a KV cache and the tool state machine
    evaluate.py         pass@k on held-out problems
    chat.py, server.py  the terminal chat; the web UI (ui.html) with a streaming endpoint
    presets.py          smoke / tiny settings;  report.py  report.json + report.md;  cli.py  the commands
    run_folder.py       what a run folder holds; atomic writes

    python -m tinytorch.models.chat speedrun --preset tiny --out runs_chat/tiny
"""
