global using OptEq.Kernels;
