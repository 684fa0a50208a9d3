"""Offsets, the journal's packed stream offsets, read as the lists they replaced: equal to them
either way round, sliced to lists, listed in the JSON view, the same floats the rounding to the
microsecond gave; a write never reaches shared values, and an offset hours out still fits."""

from __future__ import annotations

import json
import random

from mockbay.journal import Exchange, Offsets, packed_micros


def test_offsets_equal_the_list_and_tuple_of_their_numbers_either_way_round():
    numbers, later = [0.0, 20.0, 40.5], [0.0, 20.0, 41.0]
    offsets = Offsets.of(numbers)
    assert offsets == numbers and numbers == offsets  # the list's side falls back to Offsets.__eq__
    assert offsets == (0, 20, 40.5) and offsets == Offsets.of(numbers)
    assert offsets != numbers[:2] and later != offsets and offsets != "0.0"
    assert Offsets() == [] and not Offsets()
    assert repr(offsets) == "[0.0, 20.0, 40.5]"


def test_offsets_read_back_the_very_floats_rounded_to_the_microsecond():
    rng = random.Random(7)
    measured = [round(rng.uniform(0, 4_000_000), 3) for _ in range(20_000)]
    offsets = Offsets()
    for offset in measured:
        offsets.record(round(offset * 1000))
    assert list(offsets) == measured and Offsets.of(measured) == measured


def test_offsets_index_slice_and_iterate_as_a_list():
    offsets = Offsets.of((0.0, 10.0, 20.0, 30.0))
    assert offsets[1] == 10.0 and offsets[-1] == 30.0 and len(offsets) == 4
    assert offsets[1:3] == [10.0, 20.0] and type(offsets[1:3]) is list
    assert (
        list(offsets) == [0.0, 10.0, 20.0, 30.0]
        and 20.0 in offsets
        and sorted(offsets, reverse=True)[0] == 30.0
    )


def test_recording_copies_shared_values_and_leaves_them_as_they_were():
    planned = packed_micros([0.0, 5.0])
    offsets = Offsets(planned)
    offsets.record(7500)
    offsets.record(9000, 2)  # two events written together
    assert offsets == [0.0, 5.0, 7.5, 9.0, 9.0] and list(planned) == [0, 5000]


def test_an_offset_more_than_35_minutes_out_widens_the_packing():
    hours = 3 * 3_600_000
    assert packed_micros([0.0]).itemsize == 4 and packed_micros([hours]).itemsize == 8
    offsets = Offsets.of([1.5])
    offsets.record(hours * 1000)
    offsets.record(hours * 1000 + 1, 2)
    assert offsets == [1.5, hours, hours + 0.001, hours + 0.001]


def test_the_journals_json_view_lists_the_offsets():
    exchange = Exchange(seq=1, request_id="req_1", method="POST", path="/v1/messages", headers={})
    exchange.planned_offsets_ms = Offsets.of([0.0, 20.0])
    exchange.observed_offsets_ms.record(250)
    entry = exchange.to_json()
    assert entry["planned_offsets_ms"] == [0.0, 20.0] and type(entry["planned_offsets_ms"]) is list
    assert json.loads(json.dumps(entry))["observed_offsets_ms"] == [0.25]
