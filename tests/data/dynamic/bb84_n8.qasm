// BB84-style key exchange on 8 qubits: Alice draws each key bit from a measured |+> qubit,
// resets it and encodes the bit by feed-forward; fixed basis choices for Alice and Bob.
OPENQASM 2.0;
include "qelib1.inc";
qreg q[8];
creg a0[1]; creg a1[1]; creg a2[1]; creg a3[1];
creg a4[1]; creg a5[1]; creg a6[1]; creg a7[1];
creg bob[8];
h q;
measure q[0] -> a0[0]; measure q[1] -> a1[0]; measure q[2] -> a2[0]; measure q[3] -> a3[0];
measure q[4] -> a4[0]; measure q[5] -> a5[0]; measure q[6] -> a6[0]; measure q[7] -> a7[0];
reset q;
if (a0 == 1) x q[0]; if (a1 == 1) x q[1]; if (a2 == 1) x q[2]; if (a3 == 1) x q[3];
if (a4 == 1) x q[4]; if (a5 == 1) x q[5]; if (a6 == 1) x q[6]; if (a7 == 1) x q[7];
// Alice's bases: X on qubits 1, 2, 5, 6
h q[1]; h q[2]; h q[5]; h q[6];
// Bob's bases: X on qubits 2, 3, 6, 7
h q[2]; h q[3]; h q[6]; h q[7];
measure q -> bob;
