// Entry point of /sweeps/<id>: wiring only.
import { sweepPage } from "./sweepPage.js";

sweepPage(document.getElementById("sweep"));
