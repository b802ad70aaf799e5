// The console's script, loaded as <script type="module"> from /assets/ beside govuk-frontend.min.js: starts every GOV.UK Frontend component on the page.
import { initAll } from './govuk-frontend.min.js';

initAll();
