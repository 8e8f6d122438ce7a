global using OptEq.Kernels;
global using OptEq.Autodiff.Validation;
