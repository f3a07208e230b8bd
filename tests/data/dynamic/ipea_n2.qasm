// Two-round iterative phase estimation of u1(3*pi/4) on its eigenstate |1>: the second round
// applies a classically controlled rz correction from the first round's bit.
OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c0[1];
creg c1[1];
x q[1];
h q[0];
cu1(3*pi/2) q[0], q[1];
h q[0];
measure q[0] -> c0[0];
reset q[0];
h q[0];
cu1(3*pi/4) q[0], q[1];
if (c0 == 1) rz(-pi/2) q[0];
h q[0];
measure q[0] -> c1[0];
