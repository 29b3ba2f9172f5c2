"""Counting the critic and generator steps of one corGAN GAN epoch (the schedule tests)."""
from __future__ import annotations


def count_epoch(model, epoch):
    """Run GAN epoch ``epoch`` of a set-up corGAN, recording ``("d", real batch)`` for each critic step
    and ``("g", generator iteration)`` for each generator step (and the rows the released schedule draws)."""
    log, rows = [], []
    critic, gen, draw = model._critic_step, model._generator_step, model._released_rows

    def critic_step(real, gps):
        log.append(("d", real))
        return critic(real, gps)

    def generator_step():
        log.append(("g", model.g_iters_))
        return gen()

    def released_rows(n, bs):
        idx = draw(n, bs)
        rows.append(idx.clone())
        return idx

    model._critic_step, model._generator_step, model._released_rows = critic_step, generator_step, released_rows
    try:
        model.train_epoch("gan", epoch)
    finally:
        del model._critic_step, model._generator_step, model._released_rows
    return log, rows
