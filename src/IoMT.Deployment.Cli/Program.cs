// Placeholder entry point; the iomt-deploy commands land with issue 3.
return 0;
