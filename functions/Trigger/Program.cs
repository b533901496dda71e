// Placeholder until the function host lands (issue 2); replaced by the real host wiring.
return 0;
