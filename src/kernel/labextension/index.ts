/**
 * JupyterLab 4 plugin: registers Rhai with the editor's language registry,
 * so notebooks whose kernel says `codemirror_mode: "rhai"` (cleope's) and
 * `.rhai` files are highlighted as Rhai.
 */
import type { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { IEditorLanguageRegistry } from '@jupyterlab/codemirror';
import { LanguageSupport, StreamLanguage } from '@codemirror/language';
import { rhai } from './rhai.js';

const plugin: JupyterFrontEndPlugin<void> = {
  id: '@cleope/jupyterlab-rhai:plugin',
  description: 'Rhai syntax highlighting (cleope)',
  autoStart: true,
  requires: [IEditorLanguageRegistry],
  activate: (_app: JupyterFrontEnd, languages: IEditorLanguageRegistry) => {
    languages.addLanguage({
      name: 'rhai',
      displayName: 'Rhai',
      mime: 'text/x-rhai',
      extensions: ['rhai'],
      load: async () => new LanguageSupport(StreamLanguage.define(rhai))
    });
  }
};

export default plugin;
