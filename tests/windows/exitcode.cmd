@echo off
rem Runs the command line given and prints the exit code its parent process sees, as FSRM or a wrapper would:
rem   cmd /c exitcode.cmd "C:\FciConnector\fci-connector.exe" status "C:\Shares\x.txt"
rem tests/windows/run.sh compares the "exitcode=N" line with the exit-code table (docs/EXIT-CODES.md).
%*
echo exitcode=%ERRORLEVEL%
