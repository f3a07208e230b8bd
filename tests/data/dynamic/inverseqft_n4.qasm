// Semiclassical inverse QFT on 4 qubits (measure-and-rotate): the register holds the Fourier
// state of 11 (binary 1011) up to a small detuning; each measured bit rotates the qubits still
// to be measured through OpenQASM 2 if statements.
OPENQASM 2.0;
include "qelib1.inc";
qreg q[4];
creg c0[1];
creg c1[1];
creg c2[1];
creg c3[1];
h q;
u1(2*pi*11.3/16) q[0];
u1(2*pi*11.3/8) q[1];
u1(2*pi*11.3/4) q[2];
u1(2*pi*11.3/2) q[3];
h q[3];
measure q[3] -> c0[0];
if (c0 == 1) u1(-pi/2) q[2];
if (c0 == 1) u1(-pi/4) q[1];
if (c0 == 1) u1(-pi/8) q[0];
h q[2];
measure q[2] -> c1[0];
if (c1 == 1) u1(-pi/2) q[1];
if (c1 == 1) u1(-pi/4) q[0];
h q[1];
measure q[1] -> c2[0];
if (c2 == 1) u1(-pi/2) q[0];
h q[0];
measure q[0] -> c3[0];
