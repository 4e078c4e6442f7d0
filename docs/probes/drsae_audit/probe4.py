"""Audit probe 4: E or b?  And does re-imposing E's bound after every update (not every 5th) change the noise?
Uses probe 3's set-up and ``run`` (``probe4.out`` was printed by an earlier copy of the same loop, with its own
print format)."""
import time

exec(open(__file__.replace('probe4.py', 'probe3.py')).read().split("run(set('ESbDCc')")[0])

run({'E'}, 'only E at full rate')
run({'b'}, 'only b at full rate')
run(set('ESbDCc'), 'all full, E/D bound every update', interval=1)
print('t', round(time.time() - t0, 1))
