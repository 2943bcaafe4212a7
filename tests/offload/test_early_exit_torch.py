"""Early exit for real: a multi-exit CNN trained on the digits feeds right_size_and_partition."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from edgeopt.federated.data import digits_dataset
from edgeopt.nn.architectures import profile_layers, split_forward
from edgeopt.nn.multiexit import MultiExitCNN
from edgeopt.offload import load_device_profile, right_size_and_partition


@pytest.fixture(scope="module")
def trained():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        ds = digits_dataset()
        xtr = torch.as_tensor(ds.x_train, dtype=torch.float32)
        ytr = torch.as_tensor(ds.y_train, dtype=torch.long)
        net = MultiExitCNN()
        opt = torch.optim.Adam(net.parameters(), lr=5e-3)
        gen = torch.Generator().manual_seed(0)
        for _ in range(12):
            perm = torch.randperm(len(xtr), generator=gen)
            for i in range(0, len(xtr), 64):
                idx = perm[i : i + 64]
                loss = sum(
                    torch.nn.functional.cross_entropy(out, ytr[idx]) for out in net(xtr[idx])
                )
                opt.zero_grad()
                loss.backward()
                opt.step()
        net.eval()
        yield net, ds
    finally:
        torch.set_num_threads(before)


@pytest.mark.slow
def test_chosen_exit_and_split_deliver_the_promised_accuracy(trained):
    net, ds = trained
    xte = torch.as_tensor(ds.x_test, dtype=torch.float32)
    yte = np.asarray(ds.y_test)
    with torch.no_grad():
        acc = [float((o.argmax(1).numpy() == yte).mean()) for o in net(xte)]
    assert acc[-1] > 0.9 and acc[0] > 0.5  # the exits learned something
    device, server = load_device_profile("iot"), load_device_profile("edge_server")
    chains = [net.exit_chain(b) for b in range(net.num_exits)]
    profs = [profile_layers(c, (1, 64)) for c in chains]
    macs = [np.array([layer["macs"] for layer in p["layers"]], float) for p in profs]
    # a slow device and link, so that the deadline binds
    dev_rate, srv_rate = device.macs_per_second / 1e4, server.macs_per_second
    dev_t = [m / dev_rate for m in macs]
    srv_t = [m / srv_rate for m in macs]
    bits = [np.array([layer["output_bits"] for layer in p["layers"]], float) for p in profs]
    rate = 2e4
    inputs = profs[0]["input_bits"]
    fastest = [
        min(
            dev_t[b][:k].sum()
            + (inputs if k == 0 else (0 if k == len(dev_t[b]) else bits[b][k - 1])) / rate
            + srv_t[b][k:].sum()
            for k in range(len(dev_t[b]) + 1)
        )
        for b in range(3)
    ]
    for deadline in sorted(fastest):
        res = right_size_and_partition(
            acc, dev_t, srv_t, bits, input_bits=inputs, rate_bps=rate, deadline_s=deadline
        )
        assert res.status == "optimal" and res.latency_s <= deadline
        feasible = [b for b in range(3) if fastest[b] <= deadline]
        assert res.accuracy == max(acc[b] for b in feasible)
        # run the chosen exit split between device and server on the whole test set
        chain = chains[res.exit]
        with torch.no_grad():
            out, sent = split_forward(chain, xte, chain.order[: res.split])
        measured = float((out.argmax(1).numpy() == yte).mean())
        assert measured == pytest.approx(res.accuracy, abs=1.0 / len(yte))
        per_sample = sum(t[0].numel() for t in sent.values()) * 32
        expected = inputs if res.split == 0 else (
            0 if res.split == len(chain.order) else bits[res.exit][res.split - 1]
        )  # fmt: skip
        assert per_sample == expected
