/**
 * Kernel names of the gate-recurrent operator, shared by the op and every backend.
 *
 * GateRecurrent      inputs {x, g}         attrs {direction}  output y (same shape as x)
 * GateRecurrentGrad  inputs {dy, x, g, y}  attrs {direction}  outputs [dx, dg]
 */
export const GATE_RECURRENT = "GateRecurrent";
export const GATE_RECURRENT_GRAD = "GateRecurrentGrad";
