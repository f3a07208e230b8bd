// Teleportation of ry(0.7) rz(0.3)|0> from q[0] to q[2] with feed-forward corrections,
// written with OpenQASM 3 if/else, && and a negated bit.
OPENQASM 3.0;
include "stdgates.inc";
qubit[3] q;
bit[2] m;
bit out;
ry(0.7) q[0];
rz(0.3) q[0];
h q[1];
cx q[1], q[2];
cx q[0], q[1];
h q[0];
m[0] = measure q[0];
bit flag = measure q[1];
if (flag) { x q[2]; }
if (m[0] && !flag) { z q[2]; } else { if (m[0]) { z q[2]; } }
m[1] = measure q[1];
out = measure q[2];
